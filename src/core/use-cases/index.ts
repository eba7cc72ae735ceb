import { makeCheckHealth } from './check-health';
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
  handlePaymentWebhook: makeHandlePaymentWebhook(deps),
  purgeExpiredIdempotency: async (limit: number): Promise<number> =>
    (await deps.ledger.purgeExpiredIdempotency?.(deps.clock.now(), limit)) ?? 0,
});

export type UseCases = ReturnType<typeof makeUseCases>;
