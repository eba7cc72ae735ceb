/** @type {import('jest').Config} */
// ESM-only dependencies (middy 6, jose 6) are transpiled to CommonJS for jest;
// the deployed bundles are built by esbuild instead (scripts/build.mjs).
const esmDeps = ['@middy', 'jose'];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', {
      tsconfig: { module: 'commonjs', allowJs: true, target: 'ES2022', esModuleInterop: true },
    }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmDeps.join('|')})/)`],
  globalSetup: '<rootDir>/test/support/global-setup.js',
  testTimeout: 30000,
};
