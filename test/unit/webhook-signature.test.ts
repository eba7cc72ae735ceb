// The Webhook-Signature check on its own: t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">,
// any of several v1 may match, 300 s either way, the bytes exactly as sent.
import { createHmac } from 'node:crypto';
import { parseSignatureHeader, signWebhook, verifyWebhookSignature, WEBHOOK_TOLERANCE_SECONDS } from '../../src/http/webhook-signature';

const SECRET = 'whsec_unit_0123456789abcdef0123456789';
const NOW_MS = 1_767_225_600_123; // a fixed clock: 2026-01-01T00:00:00.123Z
const NOW = Math.floor(NOW_MS / 1000);
const BODY = Buffer.from('{"id":"evt_1","type":"payment.succeeded","data":{"depositId":"01943a6c-6f1e-7a52-9b1c-3d5e7f9a0b1c"}}');

/** The HMAC computed here by hand, independently of the module under test. */
const hmac = (secret: string, t: number | string, body: Buffer = BODY): string =>
  createHmac('sha256', secret).update(`${t}.${body.toString('utf8')}`).digest('hex');
const verify = (header: string | undefined, body: Buffer = BODY, nowMs = NOW_MS) => verifyWebhookSignature(header, body, SECRET, nowMs);

describe('Webhook-Signature', () => {
  it('accepts the HMAC-SHA256 of "<t>.<raw body>" keyed with the secret, hex in either case', () => {
    expect(verify(`t=${NOW},v1=${hmac(SECRET, NOW)}`)).toBe('ok');
    expect(verify(`t=${NOW},v1=${hmac(SECRET, NOW).toUpperCase()}`)).toBe('ok');
    expect(verify(` t=${NOW} , v1=${hmac(SECRET, NOW)} `)).toBe('ok');
    expect(signWebhook(SECRET, BODY, NOW)).toBe(`t=${NOW},v1=${hmac(SECRET, NOW)}`);
  });

  it('accepts several v1 when one of them matches (secret rotation), in any position, and skips other schemes', () => {
    const good = hmac(SECRET, NOW);
    const old = hmac('whsec_previous_secret_0000000000000', NOW);
    expect(verify(`t=${NOW},v1=${old},v1=${good}`)).toBe('ok');
    expect(verify(`v1=${good},t=${NOW},v1=${old}`)).toBe('ok');
    expect(verify(`t=${NOW},v0=whatever,v1=${good}`)).toBe('ok');
    expect(verify(`t=${NOW},v1=${old},v1=${old}`)).toBe('mismatch');
  });

  it('refuses a signature made with another secret, or over another t', () => {
    expect(verify(`t=${NOW},v1=${hmac('whsec_wrong_0123456789abcdef012345', NOW)}`)).toBe('mismatch');
    expect(verify(`t=${NOW},v1=${hmac(SECRET, NOW - 1)}`)).toBe('mismatch');
    // t is signed as sent: leading zeros are another text.
    expect(verify(`t=0${NOW},v1=${hmac(SECRET, NOW)}`)).toBe('mismatch');
  });

  it('refuses a tampered body, down to one byte or trailing whitespace', () => {
    const header = `t=${NOW},v1=${hmac(SECRET, NOW)}`;
    expect(verify(header, Buffer.from(BODY.toString('utf8').replace('succeeded', 'failed')))).toBe('mismatch');
    expect(verify(header, Buffer.concat([BODY, Buffer.from('\n')]))).toBe('mismatch');
    expect(verify(header, Buffer.from(JSON.stringify(JSON.parse(BODY.toString('utf8')), null, 1)))).toBe('mismatch');
  });

  it('verifies the bytes as received, not a re-encoding of them', () => {
    const latin = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]); // {"a":"é"} in Latin-1, not UTF-8
    const sig = createHmac('sha256', SECRET).update(`${NOW}.`).update(latin).digest('hex');
    expect(verify(`t=${NOW},v1=${sig}`, latin)).toBe('ok');
    expect(verify(`t=${NOW},v1=${sig}`, Buffer.from(latin.toString('utf8'), 'utf8'))).toBe('mismatch');
  });

  it('is 300 s tolerant either way and no more', () => {
    expect(WEBHOOK_TOLERANCE_SECONDS).toBe(300);
    for (const t of [NOW - 300, NOW + 300]) expect(verify(`t=${t},v1=${hmac(SECRET, t)}`)).toBe('ok');
    for (const t of [NOW - 301, NOW + 301, NOW - 86_400, 0]) expect(verify(`t=${t},v1=${hmac(SECRET, t)}`)).toBe('expired');
  });

  it('calls a missing header missing', () => {
    expect(verify(undefined)).toBe('missing');
    expect(verify('')).toBe('missing');
    expect(verify('   ')).toBe('missing');
  });

  it.each([
    ['no t', `v1=${'a'.repeat(64)}`],
    ['no v1', `t=${NOW}`],
    ['two t', `t=${NOW},t=${NOW},v1=${'a'.repeat(64)}`],
    ['t not digits', `t=${NOW}.5,v1=${'a'.repeat(64)}`],
    ['t negative', `t=-${NOW},v1=${'a'.repeat(64)}`],
    ['t empty', `t=,v1=${'a'.repeat(64)}`],
    ['a part without =', `t=${NOW},v1`],
    ['not the format at all', 'sha256=abcdef'],
    ['a bearer token', 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig'],
  ])('calls a malformed header malformed: %s', (_, header) => {
    expect(verify(header)).toBe('malformed');
  });

  it('never matches a v1 that is not 64 hex digits, even one that decodes to the right bytes in part', () => {
    const good = hmac(SECRET, NOW);
    expect(verify(`t=${NOW},v1=${good}zz`)).toBe('mismatch'); // Buffer.from(hex) would stop at "zz"
    expect(verify(`t=${NOW},v1=${good.slice(0, 62)}`)).toBe('mismatch');
    expect(verify(`t=${NOW},v1=${good}00`)).toBe('mismatch');
    expect(verify(`t=${NOW},v1=${'g'.repeat(64)}`)).toBe('mismatch');
    expect(verify(`t=${NOW},v1=`)).toBe('mismatch');
    expect(verify(`t=${NOW},v1=${Buffer.from(good, 'hex').toString('base64')}`)).toBe('mismatch');
  });

  it('parses what it checks: t as sent and every v1 in order', () => {
    expect(parseSignatureHeader('t=12,v1=ab,v2=cd,v1=ef')).toEqual({ t: '12', v1: ['ab', 'ef'] });
    expect(parseSignatureHeader('t=12')).toBeNull();
  });
});
