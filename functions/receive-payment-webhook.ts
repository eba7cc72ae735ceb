// POST /webhooks/payments: the payment gateway's signed events (no token; see src/http/payment-webhook.ts).
export { paymentWebhookHandler as handler } from '../src/http/payment-webhook';
