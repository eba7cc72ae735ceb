// POST /webhooks/payments: the payment gateway's signed events. Not an httpHandler
// route: its JSON parser would see the body before the signature is checked on the
// raw bytes (middleware/verify-webhook.ts). The same request log and one onError.
import { app } from '../composition-root';
import { InvalidRequest } from '../core/errors';
import type { PaymentWebhookEvent, WebhookOutcome } from '../core/use-cases';
import { logger } from '../observability/logger';
import { routeChain } from './http-handler';
import { errorResponse } from './middleware/error-response';
import { requestIdOf, respond, type Event, type Result, type WalletContext } from './middleware/request-context';
import { verifyWebhook } from './middleware/verify-webhook';
import { publicWebhookReceipt } from './resources';

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** After the signature check: a JSON object, or 400. */
const parseObject = (raw: Buffer): JsonObject => {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new InvalidRequest('The body is not valid JSON');
  }
  if (!isObject(body)) throw new InvalidRequest('The body must be a JSON object');
  return body;
};

/** Only short strings are taken (they may reach a log line); anything else counts as absent, i.e. unusable. */
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= 255 ? v : undefined);

/** The fields we use; unknown ones are ignored. */
const webhookEvent = (body: JsonObject): PaymentWebhookEvent => {
  const data = isObject(body.data) ? body.data : {};
  const fields = { id: text(body.id), type: text(body.type), depositId: text(data.depositId), refundId: text(data.refundId) };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
};

const handle = async (event: Event, context: WalletContext): Promise<Result> => {
  const requestId = requestIdOf(event, context);
  const hint = webhookEvent(parseObject(context.rawBody ?? Buffer.alloc(0)));
  let outcome: WebhookOutcome | { outcome: 'error' } = { outcome: 'error' };
  try {
    // Kept on the context: the events middleware publishes what the settlement wrote.
    context.app ??= await app();
    outcome = await context.app.useCases.handlePaymentWebhook(hint);
  } finally {
    // Every verified event, by its id, with what became of it (an error is answered 5xx and logged too).
    logger.info('payment webhook', { requestId, eventId: hint.id, type: hint.type, ...outcome });
  }
  return respond(200, publicWebhookReceipt(), requestId);
};

export const paymentWebhookHandler = routeChain(handle).use(verifyWebhook()).use(errorResponse());
