import { memoryBackend } from './backends';
import { describeIdempotencyRace } from './idempotency-race';

describeIdempotencyRace(memoryBackend());
