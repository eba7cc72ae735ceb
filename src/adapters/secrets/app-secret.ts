// Reads the app secret: ONE Secrets Manager secret whose SecretString is a JSON
// object of setting names (POSTGRES_PASSWORD, AUTH_JWT_SECRET, …) to values. Powertools
// caches it per process for the max age, so a warm function makes one
// GetSecretValue call per max age and picks up a rotated value after it.
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetParameterError, TransformParameterError } from '@aws-lambda-powertools/parameters/errors';
import { AppSecretError } from './app-secret-error';

export { AppSecretError, isAppSecretError, type AppSecretFailure } from './app-secret-error';

/** The secret's keys (setting names) to their values, as strings; src/config.ts validates them. */
export type AppSecretSettings = Record<string, string>;

// Built on first use, not at import: the region and endpoint (AWS_ENDPOINT_URL_SECRETS_MANAGER
// for the local fake) come from the environment, and a cold start should not pay
// for a client it does not use.
let provider: SecretsProvider | undefined;
const secretsProvider = (): SecretsProvider =>
  (provider ??= new SecretsProvider({
    clientConfig: {
      // Fail a cold start within seconds rather than at the Lambda timeout.
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 2000, requestTimeout: 3000 },
    },
  }));

// Secret ids whose last fetched value was unusable: fetched again on the next call
// instead of serving the cached bad value until the max age runs out.
const refetch = new Set<string>();
// One GetSecretValue in flight per secret even if concurrent requests miss the cache.
const inflight = new Map<string, Promise<AppSecretSettings>>();

/**
 * The app secret as settings, cached for `maxAgeSeconds` (0: fetched on every call).
 * Throws AppSecretError naming the secret id and the reason, never the value.
 */
export const loadAppSecret = (secretId: string, maxAgeSeconds: number): Promise<AppSecretSettings> => {
  const running = inflight.get(secretId);
  if (running) return running;
  const loading = fetchAppSecret(secretId, maxAgeSeconds).finally(() => inflight.delete(secretId));
  inflight.set(secretId, loading);
  return loading;
};

const fetchAppSecret = async (secretId: string, maxAgeSeconds: number): Promise<AppSecretSettings> => {
  let raw: unknown;
  try {
    raw = await secretsProvider().get(secretId, {
      maxAge: Math.max(0, maxAgeSeconds),
      transform: 'json',
      forceFetch: refetch.has(secretId),
    });
  } catch (error) {
    throw toAppSecretError(secretId, error);
  }
  try {
    const settings = parseAppSecret(secretId, raw);
    refetch.delete(secretId);
    return settings;
  } catch (error) {
    refetch.add(secretId);
    throw error;
  }
};

/**
 * Validates a parsed secret: a flat JSON object; numbers and booleans become strings.
 * Pure, so the rules are unit-testable without an endpoint.
 */
export const parseAppSecret = (secretId: string, value: unknown): AppSecretSettings => {
  if (value === undefined || value === null) {
    throw new AppSecretError(secretId, 'empty', `App secret "${secretId}" has no value (SecretString is empty or null)`);
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new AppSecretError(
      secretId,
      'not_an_object',
      `App secret "${secretId}" must be a JSON object of setting names to values, got ${Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  const entries: [string, string][] = [];
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string') entries.push([key, v]);
    else if (typeof v === 'number' || typeof v === 'boolean') entries.push([key, String(v)]);
    else {
      const kind = v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
      throw new AppSecretError(
        secretId,
        'invalid_value',
        `App secret "${secretId}": key "${key}" must be a string, number or boolean, got ${kind}`,
      );
    }
  }
  // fromEntries defines own properties, so a "__proto__" key cannot touch the prototype.
  return Object.fromEntries(entries);
};

const SERVICE_FAILURES: Record<string, { reason: AppSecretError['reason']; hint: string }> = {
  ResourceNotFoundException: { reason: 'not_found', hint: 'not found; check APP_SECRET_ID and the region' },
  AccessDeniedException: {
    reason: 'access_denied',
    hint: 'access denied; the function role needs secretsmanager:GetSecretValue on this secret',
  },
  DecryptionFailure: { reason: 'decryption_failed', hint: 'could not be decrypted; the function role needs kms:Decrypt on its key' },
};

const NETWORK_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'];
const NETWORK_CODE_IN_MESSAGE = new RegExp(`\\b(${NETWORK_CODES.join('|')})\\b`);

// The socket error's code, or, when the SDK re-wrapped the error (it does for errors
// from another realm, e.g. under jest) and kept only the message, the code named in it.
// Only the code is reported: the message holds the endpoint's host.
const networkCode = (cause: unknown): string | undefined => {
  if (typeof cause !== 'object' || cause === null) return undefined;
  if ('code' in cause && typeof cause.code === 'string') return cause.code;
  const message = 'message' in cause && typeof cause.message === 'string' ? cause.message : '';
  return NETWORK_CODE_IN_MESSAGE.exec(message)?.[1];
};

const toAppSecretError = (secretId: string, error: unknown): AppSecretError => {
  if (error instanceof TransformParameterError) {
    // Deliberately without the cause: V8's JSON.parse message quotes the input, i.e. the secret.
    return new AppSecretError(
      secretId,
      'invalid_json',
      `App secret "${secretId}" is not valid JSON; it must be a JSON object of setting names to values`,
    );
  }
  const cause = error instanceof GetParameterError && error.cause !== undefined ? error.cause : error;
  const name = cause instanceof Error ? cause.name : 'UnknownError';
  const code = networkCode(cause);
  const known = SERVICE_FAILURES[name];
  if (known) {
    return new AppSecretError(secretId, known.reason, `App secret "${secretId}" ${known.hint} (${name})`, { cause });
  }
  // SDK service errors carry an HTTP status; socket failures and timeouts do not.
  const status = hasHttpStatus(cause) ? cause.$metadata.httpStatusCode : undefined;
  if (status === undefined || (code !== undefined && NETWORK_CODES.includes(code)) || name === 'TimeoutError') {
    return new AppSecretError(
      secretId,
      'unreachable',
      `App secret "${secretId}" could not be read: Secrets Manager endpoint unreachable (${code ?? name})`,
      { cause },
    );
  }
  return new AppSecretError(secretId, 'unavailable', `App secret "${secretId}" could not be read (${name}, HTTP ${status})`, { cause });
};

const hasHttpStatus = (e: unknown): e is { $metadata: { httpStatusCode: number } } =>
  typeof e === 'object' &&
  e !== null &&
  '$metadata' in e &&
  typeof e.$metadata === 'object' &&
  e.$metadata !== null &&
  'httpStatusCode' in e.$metadata &&
  typeof e.$metadata.httpStatusCode === 'number';
