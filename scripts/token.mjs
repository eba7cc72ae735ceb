#!/usr/bin/env node
// Prints a bearer token for local use: npm run token -- <userId> [--admin] [--ttl seconds]
// Signed HS256 with AUTH_JWT_SECRET, or the local default that `npm start` uses.
import { SignJWT } from 'jose';
import { DEV_JWT_SECRET } from './dev-defaults.mjs';

const args = process.argv.slice(2);
const userId = args.find((a) => !a.startsWith('--'));
if (!userId) {
  console.error('usage: npm run token -- <userId> [--admin] [--ttl seconds]');
  process.exit(2);
}
const ttlIndex = args.indexOf('--ttl');
const ttl = ttlIndex >= 0 ? Number(args[ttlIndex + 1]) : 3600;
const secret = new TextEncoder().encode(process.env.AUTH_JWT_SECRET || DEV_JWT_SECRET);
let jwt = new SignJWT({ ...(args.includes('--admin') && { scope: 'admin' }) })
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject(userId)
  .setIssuedAt()
  .setExpirationTime(`${ttl}s`);
if (process.env.AUTH_ISSUER) jwt = jwt.setIssuer(process.env.AUTH_ISSUER);
if (process.env.AUTH_AUDIENCE) jwt = jwt.setAudience(process.env.AUTH_AUDIENCE);
console.log(await jwt.sign(secret));
