import { mongodbBackend } from './backends';
import { describeIdempotencyRace } from './idempotency-race';

describeIdempotencyRace(mongodbBackend());
