// Test bearer tokens signed with jose: HS256 with a shared secret, RS256/ES256
// with generated keys served as a JWKS from a local server, and the malformed or
// hostile tokens an attacker would try.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

/** The HS256 secret the integration tests configure as AUTH_JWT_SECRET (32+ chars). */
export const TEST_JWT_SECRET = 'test-only-hs256-secret-0123456789abcdef';

export interface TokenOptions {
  sub?: string | undefined;
  /** Adds `scope: 'admin'` (merged with `scope`). */
  admin?: boolean;
  scope?: string;
  /** Seconds from now; negative for an expired token. `null`: no exp claim. */
  expiresIn?: number | null;
  /** Seconds from now for `nbf`. */
  notBefore?: number;
  issuer?: string;
  audience?: string | string[];
  /** Extra claims. */
  claims?: Record<string, unknown>;
  /** Extra protected header fields. */
  header?: Record<string, unknown>;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

const payloadOf = (o: TokenOptions): JWTPayload => {
  const scope = [o.scope, o.admin ? 'admin' : undefined].filter(Boolean).join(' ');
  const now = nowSeconds();
  return {
    ...o.claims,
    ...(o.sub !== undefined && { sub: o.sub }),
    ...(scope && { scope }),
    iat: now,
    ...(o.expiresIn !== null && { exp: now + (o.expiresIn ?? 3600) }),
    ...(o.notBefore !== undefined && { nbf: now + o.notBefore }),
    ...(o.issuer !== undefined && { iss: o.issuer }),
    ...(o.audience !== undefined && { aud: o.audience }),
  };
};

const sign = (o: TokenOptions, alg: string, key: CryptoKey | Uint8Array, kid?: string): Promise<string> =>
  new SignJWT(payloadOf(o)).setProtectedHeader({ ...o.header, alg, typ: 'JWT', ...(kid && { kid }) }).sign(key);

/** HS256 with `secret` (default: the configured test secret). */
export const hs256 = (o: TokenOptions = {}, secret: string | Uint8Array = TEST_JWT_SECRET): Promise<string> =>
  sign(o, 'HS256', typeof secret === 'string' ? new TextEncoder().encode(secret) : secret);

/** A regular user's token. */
export const userToken = (sub: string, o: Omit<TokenOptions, 'sub'> = {}): Promise<string> => hs256({ ...o, sub });
/** An admin's token (`scope: "admin"`). */
export const adminToken = (sub = 'admin-ops', o: Omit<TokenOptions, 'sub'> = {}): Promise<string> => hs256({ ...o, sub, admin: true });

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** An unsigned token (`alg: none`, empty signature). */
export const noneToken = (o: TokenOptions = {}): string => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payloadOf(o))}.`;

/** A token whose header and payload are as given and whose signature is junk. */
export const forgedToken = (header: Record<string, unknown>, o: TokenOptions = {}): string =>
  `${b64url(header)}.${b64url(payloadOf(o))}.${Buffer.from('not-a-signature').toString('base64url')}`;

/** A validly signed HS256 token longer than `minLength` characters (padding claim). */
export const oversizedHs256 = async (sub: string, minLength = 8 * 1024 + 1): Promise<string> => {
  let pad = minLength;
  for (;;) {
    const token = await hs256({ sub, claims: { pad: 'x'.repeat(pad) } });
    if (token.length > minLength) return token;
    pad += minLength - token.length + 8;
  }
};

export interface SigningKey {
  alg: 'RS256' | 'ES256';
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** SPKI PEM of the public key (for algorithm-confusion attacks). */
  publicPem: string;
  sign(o?: TokenOptions): Promise<string>;
}

let kidSeq = 0;
/** A fresh asymmetric key pair, public half as a JWK with `kid`, `alg` and `use`. */
export const makeSigningKey = async (alg: 'RS256' | 'ES256'): Promise<SigningKey> => {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `test-${alg.toLowerCase()}-${++kidSeq}`;
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const publicPem = await exportSPKI(publicKey);
  return { alg, kid, privateKey, publicJwk, publicPem, sign: (o = {}) => sign(o, alg, privateKey, kid) };
};

export interface JwksServer {
  url: string;
  /** Requests served so far. */
  hits(): number;
  close(): Promise<void>;
}

/** Serves `{ keys }` at /.well-known/jwks.json on 127.0.0.1, a random port. */
export const startJwksServer = async (keys: JWK[]): Promise<JwksServer> => {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
};

/**
 * HS256 over any header and payload, signed by hand: for headers jose refuses to
 * produce (unknown `crit`, odd `typ`) while the signature itself is valid.
 */
export const rawHs256 = (header: Record<string, unknown>, payload: Record<string, unknown>, secret: string = TEST_JWT_SECRET): string => {
  const input = `${b64url({ alg: 'HS256', ...header })}.${b64url(payload)}`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHmac } = require('node:crypto') as typeof import('node:crypto');
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};

/** The claims a valid token for `sub` would carry (for rawHs256). */
export const validClaims = (sub: string): Record<string, unknown> => payloadOf({ sub });
