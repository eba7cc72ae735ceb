// What the throughput benches share: the median and its spread over repeated runs, and
// an operation's rate at a number of concurrent callers, by time or by count.

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** "median (min–max)", rounded. */
export const range = (xs: number[]): string => `${Math.round(median(xs))} (${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))})`;

/** Calls of `op` per second, `concurrency` callers for `runMs`. */
export const rateFor = async (runMs: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> => {
  let done = 0;
  const until = Date.now() + runMs;
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    for (let i = worker; Date.now() < until; i += concurrency) {
      await op(i);
      done++;
    }
  }));
  return done / (runMs / 1000);
};

/** Calls of `op` per second for `count` calls, at most `concurrency` in flight. */
export const rateOf = async (count: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> => {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await op(next++);
  }));
  return count / ((performance.now() - started) / 1000);
};
