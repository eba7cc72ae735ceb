// GET /openapi.json, generated from the same zod schemas the handlers validate with.
import * as z from 'zod/mini';
import * as s from './schemas';

const json = (schema: z.ZodMiniType, io: 'input' | 'output') => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};
const content = (schema: z.ZodMiniType, io: 'input' | 'output' = 'output') => ({ content: { 'application/json': { schema: json(schema, io) } } });
const error = (description: string) => ({ description, ...content(s.errorResource) });
const idParam = (description: string) => ({ name: 'id', in: 'path', required: true, schema: { type: 'string' }, description });
const idempotencyKey = {
  name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', minLength: 1, maxLength: 255 },
  description: 'Replays the first response for the same key and body (24 h); 422 for another body; 409 while in flight.',
};
const common = {
  '400': error('Invalid request'), '401': error('Unauthenticated'), '403': error('Forbidden'), '404': error('Not found'),
  '413': error('Body over 16 KiB'), '415': error('Body is not application/json'), '500': error('Internal error'),
  '503': error('Storage unavailable'),
};
const moneyErrors = { '409': error('Idempotency key in use'), '422': error('Insufficient funds, key reused, or same-account transfer') };
const body = (schema: z.ZodMiniType) => ({ required: true, ...content(schema, 'input') });

let cached: unknown;

export const openApiDocument = (): unknown =>
  (cached ??= {
    openapi: '3.1.0',
    info: { title: 'Wallet API', version: '1.0.0', description: 'Balances per currency in integer minor units; deposits, withdrawals, transfers, history.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
    paths: {
      '/health': { get: { security: [], summary: 'Storage health', responses: { '200': { description: 'OK', ...content(s.healthResource) }, '503': { description: 'Storage down', ...content(s.healthResource) } } } },
      '/openapi.json': { get: { security: [], summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1 document' } } } },
      '/users': { post: { summary: "Create the caller's profile", requestBody: body(s.createUserBody), responses: { '201': { description: 'Created', ...content(s.userResource) }, '409': error('Profile exists'), ...common } } },
      '/users/{id}': { get: { summary: 'A user with balances', parameters: [idParam('User id (token sub)')], responses: { '200': { description: 'User', ...content(s.userResource) }, ...common } } },
      '/users/{id}/deposits': { post: { summary: 'Deposit through the payment gateway', parameters: [idParam('User id'), idempotencyKey], requestBody: body(s.depositBody), responses: { '201': { description: 'Deposit', ...content(s.transactionResource) }, '402': error('Payment declined'), ...moneyErrors, '502': error('Payment gateway error; deposit stays pending'), ...common } } },
      '/users/{id}/withdrawals': { post: { summary: 'Withdraw', parameters: [idParam('User id'), idempotencyKey], requestBody: body(s.withdrawalBody), responses: { '201': { description: 'Withdrawal', ...content(s.transactionResource) }, ...moneyErrors, ...common } } },
      '/transfers': { post: { summary: 'Transfer to another user', parameters: [idempotencyKey], requestBody: body(s.transferBody), responses: { '201': { description: 'Transfer', ...content(s.transactionResource) }, ...moneyErrors, ...common } } },
      '/transactions/{id}': {
        get: { summary: 'A transaction the caller is party to', parameters: [idParam('Transaction id')], responses: { '200': { description: 'Transaction', ...content(s.transactionResource) }, ...common } },
        patch: { summary: 'Admin: settle a pending transaction or replace metadata', parameters: [idParam('Transaction id')], requestBody: body(s.updateTransactionBody), responses: { '200': { description: 'Transaction', ...content(s.transactionResource) }, '422': error('Invalid state transition'), ...common } },
      },
      '/users/{id}/transactions': {
        get: {
          summary: 'History, newest first (keyset pagination)',
          parameters: [
            idParam('User id'),
            ...Object.entries((json(s.listQuery, 'input').properties ?? {}) as Record<string, unknown>).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
          ],
          responses: { '200': { description: 'Page', ...content(s.pageResource) }, ...common },
        },
      },
    },
  });
