// A typed client for the Wallet API: openapi-fetch over the types that openapi-typescript
// generates from openapi.json (examples/wallet-api.d.ts; `npm run openapi` regenerates both).
// Every path, parameter, body and response below is checked by the compiler against the document.
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './wallet-api';

export type WalletClient = Client<paths>;
export type User = components['schemas']['User'];
export type Transaction = components['schemas']['Transaction'];
export type TransactionPage = components['schemas']['TransactionPage'];
export type Hold = components['schemas']['Hold'];
export type HoldPage = components['schemas']['HoldPage'];
export type ApiError = components['schemas']['Error'];
export type ErrorCode = components['schemas']['ErrorCode'];

/** A client that sends `token` as the bearer token on every request. */
export const walletClient = (baseUrl: string, token: string): WalletClient =>
  createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${token}` } });

/** Thrown for any error answer, with the contract's code (e.g. `insufficient_funds`). */
export class WalletApiError extends Error {
  constructor(readonly status: number, readonly code: ErrorCode | 'throttled', message: string, readonly requestId?: string) {
    super(`${status} ${code}: ${message}`);
  }
}

/** The data of a successful answer, or a WalletApiError built from the error body. */
export const unwrap = <T>(result: { data?: T; error?: ApiError | { message: string }; response: Response }): T => {
  if (result.data !== undefined) return result.data;
  const e = result.error;
  if (e !== undefined && 'error' in e) throw new WalletApiError(result.response.status, e.error.code, e.error.message, e.error.requestId);
  throw new WalletApiError(result.response.status, 'throttled', e?.message ?? result.response.statusText);
};
