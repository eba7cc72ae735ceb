// Loads one handler bundle in this fresh process, invokes it once, and prints
// {loadMs, firstInvocationMs, totalMs} as JSON. Used by bench/cold-start.mjs.
const { performance } = require('node:perf_hooks');
const [bundle, eventJson] = process.argv.slice(2);
const t0 = performance.now();
const { handler } = require(bundle);
const t1 = performance.now();
Promise.resolve(handler(JSON.parse(eventJson), { awsRequestId: 'cold-start-bench', getRemainingTimeInMillis: () => 30_000 }))
  .then((res) => {
    const t2 = performance.now();
    if (!res || res.statusCode >= 500) throw new Error(`unexpected response ${JSON.stringify(res)}`);
    process.stdout.write(JSON.stringify({ loadMs: t1 - t0, firstInvocationMs: t2 - t1, totalMs: t2 - t0, status: res.statusCode }));
    process.exit(0);
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
