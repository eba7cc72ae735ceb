// Each claim of an idempotency key stores the claiming request's token; writes for
// the key check it, so a request whose lease ran out and was taken over moves nothing.
export const version = 2;
export const name = 'idempotency-claim-token';
export const sql = `
ALTER TABLE idempotency_keys ADD COLUMN claim_token text;
`;
