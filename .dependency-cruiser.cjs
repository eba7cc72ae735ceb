// Layer rules, checked by dependency-cruiser in `npm test` (scripts/test.mjs) and by
// test/unit/architecture.test.ts, which also proves each rule fires on a broken tree
// (test/fixtures/architecture). Dependencies point inward:
//   functions → src/http + src/composition-root → src/core ← src/adapters
// Type-only imports count too (tsPreCompilationDeps): a type is still a dependency.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-stays-pure',
      comment:
        'src/core imports only src/core. Of the runtime it may use node:crypto alone: hashing request ' +
        'fingerprints and random ids is pure computation, present on every Lambda runtime, with no I/O. ' +
        'No other built-in (fs, net, process …), driver, AWS package or other npm package.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { pathNot: ['^src/core/', '^crypto$'] },
    },
    {
      name: 'adapters-stay-outside-in',
      comment:
        'Adapters implement core ports; they never reach into http, functions or the composition root, ' +
        'nor read the whole configuration: each takes its own small options type, which src/config.ts builds.',
      severity: 'error',
      from: { path: '^src/adapters/' },
      to: { path: ['^src/http/', '^functions/', '^src/composition-root\\.ts$', '^src/config\\.ts$'] },
    },
    {
      name: 'http-knows-no-adapter',
      comment: 'The HTTP layer knows the core and the composition root, never a storage, gateway or secrets adapter.',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^src/adapters/' },
    },
    {
      name: 'functions-are-thin',
      comment: 'Lambda handlers import only the HTTP layer and the composition root (and npm packages).',
      severity: 'error',
      from: { path: '^functions/' },
      to: { pathNot: ['^src/http/', '^src/composition-root\\.ts$'], dependencyTypesNot: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-test-code-in-product',
      comment: 'Nothing outside test/ imports test code (support files, fixtures, fakes).',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve would hide a dependency from every rule above.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^test/fixtures/', '^\\.build/', '^node_modules/'] },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mjs', '.cjs', '.js', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
