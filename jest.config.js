/** @type {import('jest').Config} */
// ESM-only dependencies (middy 6, jose 6) are transpiled to CommonJS for jest; PGlite's
// CommonJS build gets its dynamic import()s of Node built-ins rewritten (see
// test/support/pglite-jest-transform.js). The deployed bundles are built by esbuild.
const esmDeps = ['@middy', 'jose', '@electric-sql/pglite'];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '/@electric-sql/pglite/.+\\.cjs$': '<rootDir>/test/support/pglite-jest-transform.js',
    '^.+\\.[tj]s$': ['ts-jest', {
      tsconfig: { module: 'commonjs', allowJs: true, target: 'ES2022', esModuleInterop: true },
    }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmDeps.join('|')})/)`],
  setupFiles: ['<rootDir>/test/support/jest-env.js'],
  globalSetup: '<rootDir>/test/support/global-setup.js',
  testTimeout: 30000,
};
