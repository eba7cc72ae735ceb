import type { Config } from '../../config';
import type { Storage } from '../storage';

// Placeholder until the mongodb adapter lands.
export const openMongoStorage = async (_config: Config): Promise<Storage> => {
  throw new Error('STORAGE=mongodb is not implemented yet');
};
