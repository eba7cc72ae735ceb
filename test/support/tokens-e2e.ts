// Tokens for end-to-end runs: from E2E_TOKEN_COMMAND (`<cmd> <userId> [--admin]`
// prints a token, e.g. for a Cognito stage), else HS256 with AUTH_JWT_SECRET
// (or the local development secret that `npm start` uses).
import { execFileSync } from 'node:child_process';
import { SignJWT } from 'jose';
import { devJwtSecret as DEV_JWT_SECRET } from '../../scripts/dev-defaults.json';

export const e2eToken = async (userId: string, admin = false): Promise<string> => {
  const command = process.env.E2E_TOKEN_COMMAND;
  if (command) {
    const [bin, ...args] = command.split(' ');
    return execFileSync(bin as string, [...args, userId, ...(admin ? ['--admin'] : [])], { encoding: 'utf8' }).trim();
  }
  let jwt = new SignJWT(admin ? { scope: 'admin' } : {})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime('1h');
  if (process.env.AUTH_ISSUER) jwt = jwt.setIssuer(process.env.AUTH_ISSUER);
  if (process.env.AUTH_AUDIENCE) jwt = jwt.setAudience(process.env.AUTH_AUDIENCE);
  return jwt.sign(new TextEncoder().encode(process.env.AUTH_JWT_SECRET || DEV_JWT_SECRET));
};
