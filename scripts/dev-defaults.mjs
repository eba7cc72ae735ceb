// Local-only defaults shared by `npm start`, `npm run token` and the e2e tests
// (scripts/dev-defaults.json is the one place they are written down).
// Never used by a deployed stage: src/config.ts refuses it outside STAGE=local
// (docs/production-safety.md).
import { createRequire } from 'node:module';

export const DEV_JWT_SECRET = createRequire(import.meta.url)('./dev-defaults.json').devJwtSecret;
