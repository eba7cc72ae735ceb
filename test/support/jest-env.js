// Metrics are EMF lines on stdout; tests that check them turn them back on.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
// See pglite-jest-transform.js: PGlite only imports Node built-ins this way.
globalThis.__jestBuiltinImport = async (name) => require(name);
