// The small, domain-shaped interfaces the core needs. Every money-moving Ledger
// method is ONE atomic operation in the adapter (a SQL transaction, a Lua script,
// a MongoDB transaction, or a critical section in memory).
import type { ErrorSnapshot } from './errors';
import type { EventDetail, WalletEvent } from './events';
import type { Hold, HoldQuery } from './hold';
import type { Balance } from './money';
import type { FinalStatus, HistoryPosition, Metadata, Transaction, TransactionStatus, TransactionType } from './transaction';
import type { UserProfile } from './user';

export interface Clock {
  /** ISO 8601 UTC with milliseconds. */
  now(): string;
  /** Milliseconds since the epoch: for measuring elapsed time (time budgets). */
  nowMs(): number;
}

export interface IdGenerator {
  /** A new transaction id (UUID v7). */
  transactionId(): string;
  /** A new random idempotency claim token (see IdempotencyScope.token). */
  claimToken(): string;
}

/** An idempotency key, scoped to its caller, with the fingerprint of the request it was first used for. */
export interface IdempotencyScope {
  callerId: string;
  key: string;
  fingerprint: string;
  /**
   * Random per request. A claim stores it; every later write for the key (link,
   * outcome, release) happens only while the record is still in flight with this
   * token, so a request whose lease ran out and was taken over can move no money.
   */
  token: string;
}

/** The final outcome stored for a key and replayed for later requests with it. */
export type IdempotencyOutcome =
  | { kind: 'transaction'; transaction: Transaction }
  | { kind: 'hold'; hold: Hold }
  | { kind: 'error'; error: ErrorSnapshot };

export type IdempotencyClaim =
  /** This request owns the key now. `transactionId`: what an earlier, unfinished attempt created (a deposit to resume). */
  | { kind: 'claimed'; transactionId?: string }
  | { kind: 'replay'; outcome: IdempotencyOutcome }
  | { kind: 'in_use' }
  | { kind: 'mismatch' };

export interface ClaimTimes {
  now: string;
  /** An in-flight claim older than this may be taken over (its request died). */
  leaseUntil: string;
  /** The record is kept at least until then. */
  expiresAt: string;
}

export interface HistoryQuery {
  userId: string;
  limit: number;
  /** Return only items strictly older than this position. */
  before?: HistoryPosition;
  type?: TransactionType;
  status?: TransactionStatus;
}

export interface SettleInput {
  id: string;
  status: FinalStatus;
  now: string;
  /** Replaces the metadata in the same step (admin PATCH with both fields). */
  metadata?: Metadata;
}

export interface CaptureInput {
  holdId: string;
  /**
   * The capture's completed transaction, built by the use case from the hold it read:
   * a `transfer` to the payee (a `withdrawal` when there is none) with `holdId` set and
   * 1 ≤ amount ≤ the hold's amount. Its `userId`, `toUserId` and `currency` are the
   * hold's (they never change), so a ledger may take the accounts it touches from them
   * without reading the hold first; it checks them against the stored hold (a mismatch is
   * a caller's bug: an Error, with no effect).
   */
  transaction: Transaction;
  now: string;
}

export interface RefundInput {
  /**
   * The refund, built by the use case from the original it read: type `refund`,
   * `refundOf` set; `userId` = whose balance it debits (a transfer's payee, a deposit's
   * owner) or credits (a withdrawal's owner); `toUserId` = a transfer's sender;
   * status `pending` for a deposit refund (the gateway decides), else `completed`.
   */
  refund: Transaction;
  now: string;
}

export interface Ledger {
  /**
   * Atomically: no live record → a new in-flight claim; same fingerprint and done →
   * replay; in flight with a live lease → in_use; in flight with an expired lease →
   * taken over (claimed, with the transaction an earlier attempt linked); another
   * fingerprint → mismatch. Expired records count as absent. A new or taken-over
   * claim stores `scope.token`.
   */
  claimIdempotency(scope: IdempotencyScope, times: ClaimTimes): Promise<IdempotencyClaim>;
  /**
   * Records a final outcome decided outside a money movement (a 4xx, a pending deposit).
   * Throws IdempotencyKeyInUse, writing nothing, unless the record is in flight with `scope.token`.
   */
  completeIdempotency(scope: IdempotencyScope, outcome: IdempotencyOutcome): Promise<void>;
  /** Frees an in-flight claim held with `scope.token` so that a retry runs again (after a 5xx); keeps its linked transaction. */
  releaseIdempotency(scope: IdempotencyScope): Promise<void>;

  // Every method below that takes `idem` first checks, in the same atomic step, that the
  // key is in flight with `idem.token`; otherwise it throws IdempotencyKeyInUse with no effect.

  /** Stores a new `pending` deposit and, when `idem` is given, links it to that claim — one atomic step. */
  createDeposit(tx: Transaction, idem?: IdempotencyScope): Promise<Transaction>;
  /**
   * pending → completed | failed in one atomic step, crediting a completed deposit;
   * a refund (of a deposit) that fails credits its owner back and gives its amount back
   * to the original's `refundedAmount`; a completed refund moves nothing more.
   * Records `{ kind: 'transaction' }` for `idem` in the same step.
   * A deposit whose credit would push the balance over MAX_BALANCE becomes `failed`
   * instead, in the same one step, with no credit and nothing recorded for `idem`:
   * the returned status then differs from the one asked for.
   * Throws NotFound, or InvalidStateTransition when the transaction is no longer pending.
   */
  settle(input: SettleInput, idem?: IdempotencyScope): Promise<Transaction>;
  /**
   * Checks the owner's profile and the balance, debits it, stores the completed
   * withdrawal, records the outcome for `idem`: one atomic step. Refusals have no
   * effect, in this order: NotFound (no profile, see profileNotFound), InsufficientFunds.
   */
  withdraw(tx: Transaction, idem?: IdempotencyScope, claim?: ClaimTimes): Promise<Transaction>;
  /**
   * Like withdraw, debiting `userId` and crediting `toUserId` in the same step. Refusals,
   * in this order: the sender's NotFound, the recipient's NotFound (`param: "toUserId"`),
   * then InsufficientFunds, then BalanceOverflow when `toUserId` cannot hold the credit.
   */
  transfer(tx: Transaction, idem?: IdempotencyScope, claim?: ClaimTimes): Promise<Transaction>;
  /**
   * True when withdraw/transfer accept `claim`: the fast path for a key that is new.
   * The key is then claimed for `idem` inside the movement's own atomic step (one
   * commit instead of two), and a later claim of it replays the movement as it was
   * created (movementAsCreated), whatever changed it since. If the key has any record at all, nothing happens and
   * they throw IdempotencyKeyInUse; a refusal (NotFound, InsufficientFunds, …) records nothing.
   * Either way the caller then takes the regular claimIdempotency path.
   */
  readonly claimsWithMovement?: boolean;

  // Holds. Every movement that debits a user's `available` first releases, in the same
  // atomic step, that user's holds in the currency that are past `expiresAt` (status
  // `expired`, `updatedAt` = expiresAt, money back to `available`), so a movement never
  // counts expired money as held. Reads compute them as released (see holdAsOf).

  /**
   * Checks the payer's profile (NotFound), the payee's (NotFound, `param: "toUserId"`),
   * then that `available` covers the amount (InsufficientFunds); moves it from
   * `available` to `held`, stores the hold (`held`) and records `{ kind: 'hold' }` for
   * `idem` — one atomic step. Refusals have no effect. With `claim` (claimsWithHold),
   * the fast path as for withdraw and transfer.
   */
  createHold(hold: Hold, idem?: IdempotencyScope, claim?: ClaimTimes): Promise<Hold>;
  /**
   * True when createHold accepts `claim`: claimsWithMovement's fast path for a hold's
   * creation (its record replays `{ kind: 'hold' }`, the hold as created). A ledger
   * without it ignores `claim` and checks `idem` as held, so a claim passed to it
   * only ever ends in IdempotencyKeyInUse.
   */
  readonly claimsWithHold?: boolean;
  /**
   * In one atomic step: the hold must exist (HoldNotFound) and be capturable (see
   * holdRefusal: HoldExpired, InvalidStateTransition), the payee must be able to hold
   * the credit (BalanceOverflow). The whole hold leaves the payer's `held`, the rest
   * above the captured amount returns to the payer's `available`, the payee (if any)
   * is credited, the transaction is stored, the hold becomes `captured` with
   * `capturedAmount` and `transactionId`, and `{ kind: 'transaction' }` is recorded for `idem`.
   * With `claim` (claimsWithCapture), the fast path as for withdraw and transfer.
   */
  captureHold(input: CaptureInput, idem?: IdempotencyScope, claim?: ClaimTimes): Promise<{ hold: Hold; transaction: Transaction }>;
  /**
   * True when captureHold accepts `claim`: claimsWithMovement's fast path for a capture
   * (its record replays `{ kind: 'transaction' }`, the capture as created). A ledger
   * without it checks `idem` as held, so a claim passed to it only ever ends in
   * IdempotencyKeyInUse.
   */
  readonly claimsWithCapture?: boolean;
  /** Like captureHold, returning the whole amount to `available`; the hold becomes `voided`; records `{ kind: 'hold' }`. */
  voidHold(input: { holdId: string; now: string }, idem?: IdempotencyScope): Promise<Hold>;
  /** Releases up to `limit` holds past their expiry (any payer), oldest expiry first; returns how many. */
  releaseExpiredHolds(input: { now: string; limit: number }): Promise<number>;
  /** The hold as of `now` (holdAsOf), or null. */
  getHold(id: string, now: string): Promise<Hold | null>;
  /** Holds the user pays, newest first by (createdAt, id), each as of `now`, filtered by that status. */
  listHolds(query: HoldQuery): Promise<Hold[]>;

  /**
   * In one atomic step: the original (`refund.refundOf`) must exist (TransactionNotFound)
   * and take the refund (see refundRefusal: InvalidStateTransition, RefundExceedsAmount);
   * a debit needs the balance (InsufficientFunds, after releasing expired holds), a
   * credit must fit (BalanceOverflow). Moves the money (transfer: payee → sender;
   * withdrawal: credits the owner; deposit: debits the owner), adds the amount to the
   * original's `refundedAmount` (and sets its `updatedAt`), stores the refund in the
   * histories of everyone it moves. A `completed` refund records `{ kind: 'transaction' }`
   * for `idem`; a `pending` one (a deposit refund, the gateway is asked next) is linked
   * to the claim instead, like createDeposit.
   */
  refund(input: RefundInput, idem?: IdempotencyScope): Promise<Transaction>;

  /** Remembers the gateway's id for a deposit or a deposit refund (used by reconciliation). */
  setPaymentRef(id: string, paymentRef: string): Promise<void>;
  /** Replaces metadata in any status. Throws NotFound. */
  updateMetadata(id: string, metadata: Metadata, now: string): Promise<Transaction>;

  getTransaction(id: string): Promise<Transaction | null>;
  /** A user's history — as sender, recipient or owner — newest first by (createdAt, id). */
  listTransactions(query: HistoryQuery): Promise<Transaction[]>;
  /** Pending deposits created before `createdBefore`, oldest first. */
  listPendingDeposits(query: { createdBefore: string; limit: number }): Promise<Transaction[]>;
  /** Pending refunds (of deposits, waiting for the gateway) created before `createdBefore`, oldest first. */
  listPendingRefunds(query: { createdBefore: string; limit: number }): Promise<Transaction[]>;
  /** Every currency the user has held, zero balances included; holds past their expiry count as released at `now` (default: the current time). */
  getBalances(userId: string, now?: string): Promise<Balance[]>;
  /**
   * Deletes up to `limit` idempotency records that expired before `now`; returns how
   * many. Absent where the store expires them itself (Redis PEXPIREAT, a MongoDB TTL index).
   */
  purgeExpiredIdempotency?(now: string, limit: number): Promise<number>;
}

export interface UserStore {
  /** Throws UserExists when the id has a profile already. */
  create(profile: UserProfile): Promise<UserProfile>;
  get(id: string): Promise<UserProfile | null>;
}

/** Something the storage can be asked about for /health. */
export interface HealthCheck {
  ping(): Promise<void>;
}

export type PaymentStatus = 'succeeded' | 'pending' | 'declined';

export interface ChargeRequest {
  /** Our deposit id: sent as the gateway's Idempotency-Key on every attempt. */
  depositId: string;
  amount: number;
  currency: string;
  paymentToken: string;
}

export interface PaymentResult {
  status: PaymentStatus;
  /** The gateway's own id for the payment. */
  paymentRef: string;
}

export interface RefundRequest {
  /** Our refund transaction's id: sent as the gateway's Idempotency-Key on every attempt. */
  refundId: string;
  /** The deposit being refunded (our id) and the gateway's id for its payment. */
  depositId: string;
  paymentRef?: string;
  amount: number;
  currency: string;
}

export interface PaymentGateway {
  /**
   * Charges once per depositId, however often it is called. Throws PaymentGatewayError
   * when the outcome is unknown, ServiceUnavailable while the circuit is open.
   */
  charge(req: ChargeRequest): Promise<PaymentResult>;
  /** The gateway's current view of a deposit; null when the gateway does not know it. */
  getPaymentStatus(ref: { depositId: string; paymentRef?: string }): Promise<PaymentResult | null>;
  /**
   * Refunds (part of) a charged deposit, once per refundId however often it is called.
   * `paymentRef` of the result is the gateway's id for the refund. Errors as for charge.
   */
  refund(req: RefundRequest): Promise<PaymentResult>;
  /** The gateway's current view of a refund; null when the gateway does not know it. */
  getRefundStatus(ref: { refundId: string; paymentRef?: string }): Promise<PaymentResult | null>;
}

/** Where events go (Amazon EventBridge). */
export interface EventPublisher {
  /**
   * Publishes each event at least once, in calls of at most 10 entries, retrying
   * failed entries (a call can succeed with some entries failed) and failed calls with
   * backoff within its own time budget. Returns the ids it could not publish (they stay
   * in the outbox for the next relay run); throws nothing for a failure of the bus.
   */
  publish(events: EventDetail[]): Promise<{ failed: string[] }>;
}

/** The transactional outbox: events written by the Ledger in each change's atomic step. */
export interface Outbox {
  /**
   * Claims up to `limit` unpublished events, oldest first, for `leaseUntil`: a concurrent
   * relay skips claimed ones (SKIP LOCKED or the store's equivalent); a claim whose relay
   * died runs out and is claimed again (at-least-once).
   */
  claimEvents(input: { limit: number; now: string; leaseUntil: string; token: string }): Promise<WalletEvent[]>;
  /** Removes published events (only while still claimed with `token`; a late relay's ack is harmless either way). */
  ackEvents(ids: string[], token: string): Promise<void>;
  /** Unpublished events: how many, and when the oldest committed. */
  backlog(): Promise<{ count: number; oldestAt?: string }>;
}
