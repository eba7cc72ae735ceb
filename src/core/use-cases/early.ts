/**
 * Starts a read that does not depend on the idempotency claim, so that both travel
 * at once. A failure surfaces where the result is awaited (inside the claimed run,
 * so a 404 becomes the key's recorded outcome); unawaited, it is ignored.
 */
export const early = <T>(p: Promise<T>): Promise<T> => {
  p.catch(() => undefined);
  return p;
};
