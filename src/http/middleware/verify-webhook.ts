// POST /webhooks/payments carries no token: its signature is its authentication. The
// route exists only with PAYMENT_WEBHOOK_SECRET configured (404 otherwise), and the
// signature is checked on the bytes as they arrived, before anything parses them (401,
// the reason logged, never the header). Then the usual size cap (413).
import { app } from '../../composition-root';
import { NotFound, PayloadTooLarge, Unauthenticated } from '../../core/errors';
import { logger } from '../../observability/logger';
import { verifyWebhookSignature } from '../webhook-signature';
import { MAX_BODY_BYTES } from './body-guard';
import { header, requestIdOf, type Event, type Middleware } from './request-context';

const rawBytes = (event: Event): Buffer =>
  event.body === undefined || event.body === null ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');

export const verifyWebhook = (): Middleware => ({
  before: async ({ event, context }) => {
    const application = await app();
    const secret = application.config.paymentWebhookSecret;
    if (secret === undefined) throw new NotFound('No such route');
    const raw = rawBytes(event);
    const verdict = verifyWebhookSignature(header(event, 'webhook-signature'), raw, secret, Date.now());
    if (verdict !== 'ok') {
      logger.warn('webhook signature refused', { requestId: requestIdOf(event, context), reason: verdict });
      throw new Unauthenticated('Missing or invalid Webhook-Signature');
    }
    if (raw.byteLength > MAX_BODY_BYTES) throw new PayloadTooLarge(MAX_BODY_BYTES);
    context.app = application;
    context.rawBody = raw;
  },
});
