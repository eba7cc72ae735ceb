import { makeCaptureHold } from './capture-hold';
import { makeCheckHealth } from './check-health';
import { makeCreateHold } from './create-hold';
import { makeCreateRefund } from './create-refund';
import { makeGetHold } from './get-hold';
import { makeListHolds } from './list-holds';
import { makePublishEvents, type PublishOptions, type PublishReport } from './publish-events';
import { makeVoidHold } from './void-hold';
import type { Deps } from './deps';
import { makeCreateDeposit } from './create-deposit';
import { makeCreateTransfer } from './create-transfer';
import { makeCreateUser } from './create-user';
import { makeCreateWithdrawal } from './create-withdrawal';
import { makeGetTransaction } from './get-transaction';
import { makeGetUser } from './get-user';
import { makeHandlePaymentWebhook } from './handle-payment-webhook';
import { makeListTransactions } from './list-transactions';
import { makeReconcileDeposits } from './reconcile-deposits';
import { makeUpdateTransaction } from './update-transaction';

export type { Caller, Deps, Limits } from './deps';
export type { PaymentWebhookEvent, WebhookOutcome } from './handle-payment-webhook';

/** Every use case of the wallet, built over one set of ports. */
export const makeUseCases = (deps: Deps) => ({
  checkHealth: makeCheckHealth(deps),
  createUser: makeCreateUser(deps),
  getUser: makeGetUser(deps),
  createDeposit: makeCreateDeposit(deps),
  createWithdrawal: makeCreateWithdrawal(deps),
  createTransfer: makeCreateTransfer(deps),
  getTransaction: makeGetTransaction(deps),
  listTransactions: makeListTransactions(deps),
  updateTransaction: makeUpdateTransaction(deps),
  reconcileDeposits: makeReconcileDeposits(deps),
  createHold: makeCreateHold(deps),
  getHold: makeGetHold(deps),
  listHolds: makeListHolds(deps),
  captureHold: makeCaptureHold(deps),
  voidHold: makeVoidHold(deps),
  createRefund: makeCreateRefund(deps),
  releaseExpiredHolds: async (limit: number): Promise<number> =>
    deps.ledger.releaseExpiredHolds({ now: deps.clock.now(), limit }),
  /** The outbox relay; with events off there is nothing to publish. */
  publishEvents: async (opts: PublishOptions): Promise<PublishReport> =>
    deps.outbox && deps.publisher ? makePublishEvents(deps, deps.outbox, deps.publisher)(opts) : { published: 0, failed: 0, batches: 0 },
  eventBacklog: async (): Promise<{ count: number; oldestAt?: string } | undefined> => deps.outbox?.backlog(),
  handlePaymentWebhook: makeHandlePaymentWebhook(deps),
  purgeExpiredIdempotency: async (limit: number): Promise<number> =>
    (await deps.ledger.purgeExpiredIdempotency?.(deps.clock.now(), limit)) ?? 0,
});

export type UseCases = ReturnType<typeof makeUseCases>;
