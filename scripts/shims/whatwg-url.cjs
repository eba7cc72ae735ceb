// Bundled in place of the `whatwg-url` package (scripts/build.mjs `alias`). The MongoDB
// driver's connection-string parser only needs URL and URLSearchParams, which Node has
// built in (the same WHATWG URL standard); the package and its tr46 tables are ~280 KB
// of every MongoDB bundle.
module.exports = { URL: globalThis.URL, URLSearchParams: globalThis.URLSearchParams };
