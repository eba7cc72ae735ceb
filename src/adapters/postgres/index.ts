import type { Config } from '../../config';
import type { Storage } from '../storage';

// Placeholder until the postgres adapter lands.
export const openPostgresStorage = async (_config: Config): Promise<Storage> => {
  throw new Error('STORAGE=postgres is not implemented yet');
};

/** The embedded default: the same SQL on PGlite, data under config.dataDir. */
export const openPgliteStorage = async (_config: Config): Promise<Storage> => {
  throw new Error('STORAGE=pglite is not implemented yet');
};
