// Which failures of PutEvents are worth another try within the same publish().

/** Entry error codes that no resend cures (bad entry, missing permission). */
const PERMANENT_ENTRY_CODES = new Set([
  'MalformedDetail', 'InvalidArgument', 'ValidationException', 'AccessDeniedException',
  'NotAuthorizedForSourceException', 'NotAuthorizedForDetailTypeException',
]);

/** An entry that PutEvents answered with an ErrorCode: resent unless its code is permanent. */
export const isRetryableEntryCode = (code: string): boolean => !PERMANENT_ENTRY_CODES.has(code);

const THROTTLING = new Set([
  'ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException',
  'RequestLimitExceeded', 'RequestThrottled', 'SlowDown',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED']);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** Why a failed call is worth retrying, or undefined when it is not (a 4xx other than throttling). */
export const transientReason = (error: unknown): 'timeout' | 'throttled' | 'server_error' | 'network' | undefined => {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as SdkErrorShape;
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return 'timeout';
  if (status === 429 || (typeof e.name === 'string' && THROTTLING.has(e.name))) return 'throttled';
  if (status !== undefined && status >= 500) return 'server_error';
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return 'network';
  if (status === undefined && e.$retryable) return 'network';
  return undefined;
};

/** A short, payload-free name for a failure, for the give-up log. */
export const failureName = (error: unknown): string =>
  error instanceof Error ? (error as SdkErrorShape & Error).name : 'UnknownError';
