// PGlite's CommonJS build loads Node built-ins with dynamic import(), which jest's
// module VM refuses without --experimental-vm-modules (and that flag breaks the
// CommonJS transform of the ESM-only dependencies). Route them through a require.
module.exports = {
  process(source) {
    return { code: source.replace(/\bimport\((["'])/g, 'globalThis.__jestBuiltinImport($1') };
  },
};
