// The payment gateway's Webhook-Signature header:
//   t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">[,v1=<…>]
// checked on the raw bytes, before anything parses them. Several v1 let the gateway
// sign with an old and a new secret while a secret is rotated; any one may match.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far `t` may be from now, either way: a captured request cannot be replayed later than this. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** Why a signature was refused (for the log only: every refusal is the same 401). */
export type SignatureVerdict = 'ok' | 'missing' | 'malformed' | 'mismatch' | 'expired';

const SECONDS = /^\d{1,12}$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

interface ParsedHeader {
  /** `t` exactly as sent: the text the gateway signed. */
  t: string;
  v1: string[];
}

/** `t` once, digits only, and at least one `v1`; other schemes (v0, a future v2) are skipped. */
export const parseSignatureHeader = (value: string): ParsedHeader | null => {
  let t: string | undefined;
  const v1: string[] = [];
  for (const part of value.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) return null;
    const key = part.slice(0, at).trim();
    const v = part.slice(at + 1).trim();
    if (key === 't') {
      if (t !== undefined || !SECONDS.test(v)) return null;
      t = v;
    } else if (key === 'v1') {
      v1.push(v);
    }
  }
  return t === undefined || v1.length === 0 ? null : { t, v1 };
};

const digest = (secret: string, t: string, rawBody: Uint8Array): Buffer =>
  createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();

/** The header value for `rawBody` signed at `t` (the gateway's side; used by the sandbox and tests). */
export const signWebhook = (secret: string, rawBody: Uint8Array | string, t: number = Math.floor(Date.now() / 1000)): string => {
  const bytes = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  return `t=${t},v1=${digest(secret, String(t), bytes).toString('hex')}`;
};

export const verifyWebhookSignature = (
  header: string | undefined,
  rawBody: Uint8Array,
  secret: string,
  nowMs: number,
  toleranceSeconds: number = WEBHOOK_TOLERANCE_SECONDS,
): SignatureVerdict => {
  if (header === undefined || header.trim() === '') return 'missing';
  const parsed = parseSignatureHeader(header);
  if (!parsed) return 'malformed';
  const expected = digest(secret, parsed.t, rawBody);
  // Equal lengths (checked by the pattern) and a comparison that takes the same time wherever the bytes differ.
  const matches = parsed.v1.some((sig) => SHA256_HEX.test(sig) && timingSafeEqual(Buffer.from(sig, 'hex'), expected));
  if (!matches) return 'mismatch';
  return Math.abs(Math.floor(nowMs / 1000) - Number(parsed.t)) > toleranceSeconds ? 'expired' : 'ok';
};
