import type { Deps } from './deps';

export type Health = 'ok' | 'unavailable';

/** Storage health for GET /health: an answer either way, never an error. */
export const makeCheckHealth = ({ health }: Pick<Deps, 'health'>) =>
  async (): Promise<Health> => health.ping().then((): Health => 'ok', (): Health => 'unavailable');
