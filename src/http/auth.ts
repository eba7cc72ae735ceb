// Bearer JWT verification with jose: HS256 with AUTH_JWT_SECRET, or RS256/ES256
// against AUTH_JWKS_URL. Every failure is a 401; the reason goes to the log only.
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config';
import { Unauthenticated } from '../core/errors';
import type { Caller } from '../core/use-cases';
import { isValidUserId } from '../core/user';

/** Longer than any real token; refuses to spend work on oversized input. */
const MAX_TOKEN_LENGTH = 8192;

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
    const match = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(authorization?.trim() ?? '');
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
      if (!isValidUserId(payload.sub)) throw new Unauthenticated();
      const scope = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
      return { id: payload.sub, isAdmin: scope.includes('admin') };
    } catch {
      throw new Unauthenticated();
    }
  };
};
