// Bundled in place of the stream modules @middy/core imports (scripts/build.mjs,
// plugin `middy-streams`). middy needs them only to stream a response
// (`streamifyResponse`), which no handler here does; loading `node:stream/web` at
// import cost every cold start about 2 ms. Each is required on first use instead.
module.exports = {
  get Readable() {
    return require('node:stream').Readable;
  },
  get pipeline() {
    return require('node:stream/promises').pipeline;
  },
  get ReadableStream() {
    return require('node:stream/web').ReadableStream;
  },
};
