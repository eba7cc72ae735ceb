import type { Settings } from '../../config';

/**
 * Reads the app secret (a JSON object of setting names to values) from AWS Secrets
 * Manager, cached for `maxAgeSeconds`. Placeholder until the secrets adapter lands.
 */
export const loadAppSecret = async (_secretId: string, _maxAgeSeconds: number): Promise<Settings> => {
  throw new Error('APP_SECRET_ID is not supported yet');
};
