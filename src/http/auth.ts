// Bearer JWT verification with jose: HS256 with AUTH_JWT_SECRET, or RS256/ES256
// against AUTH_JWKS_URL. Every failure is a 401; the reason goes to the log only.
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config';
import { Unauthenticated } from '../core/errors';
import type { Caller } from '../core/use-cases';
import { isValidUserId } from '../core/user';

/** Longer than any real token; refuses to spend work on oversized input. */
const MAX_TOKEN_LENGTH = 8192;
/** A token issued further in the future than this clock skew is refused. */
const MAX_IAT_SKEW_SECONDS = 60;

export type VerifyCaller = (authorization: string | undefined) => Promise<Caller>;

export const makeVerifier = (auth: Config['auth']): VerifyCaller => {
  const secret = auth.jwtSecret ? new TextEncoder().encode(auth.jwtSecret) : undefined;
  const jwks = auth.jwksUrl ? createRemoteJWKSet(new URL(auth.jwksUrl)) : undefined;
  const algorithms = [...(secret ? ['HS256'] : []), ...(jwks ? ['RS256', 'ES256'] : [])];

  // The key is chosen by algorithm family, so an HS256 token can never be checked
  // against a public JWKS key (algorithm confusion).
  const key: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === 'HS256' && secret) return secret;
    if (jwks && header.alg !== 'HS256') return jwks(header, token);
    throw new Unauthenticated();
  };

  return async (authorization) => {
    // The scheme name is case-insensitive (RFC 7235 §2.1).
    const match = /^Bearer ([A-Za-z0-9_\-.]+)$/i.exec(authorization?.trim() ?? '');
    const token = match?.[1];
    if (!token || token.length > MAX_TOKEN_LENGTH) throw new Unauthenticated();
    try {
      decodeProtectedHeader(token);
      const { payload } = await jwtVerify(token, key, {
        algorithms,
        requiredClaims: ['sub', 'exp'],
        ...(auth.issuer && { issuer: auth.issuer }),
        ...(auth.audience && { audience: auth.audience }),
      });
      // jose checks a future `iat` only with maxTokenAge, which would also make `iat` required.
      if (payload.iat !== undefined && payload.iat > Date.now() / 1000 + MAX_IAT_SKEW_SECONDS) throw new Unauthenticated();
      if (!isValidUserId(payload.sub)) throw new Unauthenticated();
      const scope = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
      return { id: payload.sub, isAdmin: scope.includes('admin') };
    } catch {
      throw new Unauthenticated();
    }
  };
};
