import type { Clock, EventPublisher, HealthCheck, IdGenerator, Ledger, Outbox, PaymentGateway, UserStore } from '../ports';

export interface Limits {
  /** Per-request maximum amount in minor units. */
  maxAmount: number;
  /** How long an in-flight idempotency claim blocks retries before it may be taken over. */
  idempotencyLeaseMs: number;
  /** How long idempotency keys are kept. */
  idempotencyTtlMs: number;
}

export interface Deps {
  ledger: Ledger;
  users: UserStore;
  health: HealthCheck;
  gateway: PaymentGateway;
  clock: Clock;
  ids: IdGenerator;
  limits: Limits;
  /** Both set when events are on (EVENT_BUS_NAME): the store's outbox and the bus. */
  outbox?: Outbox;
  publisher?: EventPublisher;
}

/** Who is calling, decided from the token only. */
export interface Caller {
  id: string;
  isAdmin: boolean;
}
