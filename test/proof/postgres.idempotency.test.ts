import { postgresBackend } from './backends';
import { describeIdempotencyRace } from './idempotency-race';

describeIdempotencyRace(postgresBackend('wallet_proof_idempotency'));
