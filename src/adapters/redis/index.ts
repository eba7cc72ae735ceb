import type { Config } from '../../config';
import type { Storage } from '../storage';

// Placeholder until the redis adapter lands.
export const openRedisStorage = async (_config: Config): Promise<Storage> => {
  throw new Error('STORAGE=redis is not implemented yet');
};
