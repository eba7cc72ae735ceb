import { redisBackend } from './backends';
import { describeIdempotencyRace } from './idempotency-race';

describeIdempotencyRace(redisBackend());
