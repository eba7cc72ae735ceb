import { pgliteBackend } from './backends';
import { describeIdempotencyRace } from './idempotency-race';

describeIdempotencyRace(pgliteBackend());
