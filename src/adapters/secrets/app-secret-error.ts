// Kept apart from app-secret.ts so the composition root can recognise it without
// pulling the Secrets Manager client into every bundle.

export type AppSecretFailure =
  | 'not_found'
  | 'access_denied'
  | 'decryption_failed'
  | 'invalid_json'
  | 'not_an_object'
  | 'invalid_value'
  | 'empty'
  | 'unreachable'
  | 'unavailable';

/**
 * The app secret could not be read or is malformed. The message names the secret id
 * and the reason, never the secret's value; the HTTP layer answers 503.
 */
export class AppSecretError extends Error {
  readonly code = 'app_secret_unavailable';

  constructor(
    readonly secretId: string,
    readonly reason: AppSecretFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppSecretError';
  }
}

/** True for an AppSecretError, also across bundle copies of this class. */
export const isAppSecretError = (error: unknown): error is AppSecretError =>
  error instanceof AppSecretError || (error instanceof Error && error.name === 'AppSecretError');
