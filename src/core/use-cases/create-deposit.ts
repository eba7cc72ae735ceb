import { BalanceOverflow, PaymentFailed, PaymentGatewayError } from '../errors';
import { MAX_BALANCE, type Balance } from '../money';
import { withIdempotency, type IdempotentResult } from '../idempotency';
import type { Metadata, Transaction } from '../transaction';
import { creditRefused } from './credit-refused';
import type { Caller, Deps } from './deps';
import { checkMoney } from './check-money';
import { early } from './early';
import { makeGatewayAnswer } from './gateway-answer';
import { idempotencyContext, idempotencyScope } from './idempotency-scope';
import { assertOwner } from './ownership';
import { requireUser } from './require-user';

export interface DepositInput {
  userId: string;
  amount: number;
  currency: string;
  paymentToken?: string;
  metadata?: Metadata;
  idempotencyKey?: string;
}

export const DEFAULT_PAYMENT_TOKEN = 'tok_ok';

/** Whether a credit of `amount` would take the balance in `currency` above MAX_BALANCE. */
const cannotHold = (balances: Balance[], { amount, currency }: { amount: number; currency: string }): boolean =>
  (balances.find((b) => b.currency === currency)?.available ?? 0) > MAX_BALANCE - amount;

/**
 * The pending deposit is stored BEFORE the gateway is called, then settled by the
 * gateway's answer. An unknown outcome leaves it pending (502 naming it); a retry with
 * the same Idempotency-Key resumes that deposit, and the gateway is asked with the same
 * deposit id, so it charges at most once.
 */
export const makeCreateDeposit = (deps: Pick<Deps, 'ledger' | 'users' | 'gateway' | 'clock' | 'ids' | 'limits'>) => {
  const { ledger, gateway } = deps;

  /** Whether the owner's balance cannot hold this deposit now. */
  const overLimit = async (tx: Transaction): Promise<boolean> => cannotHold(await ledger.getBalances(tx.userId), tx);

  /**
   * A failed deposit was refused its credit (the balance limit) when the ledger failed it
   * in our own settle, or when someone else settled it after the gateway had just said the
   * payment succeeded and the balance cannot hold it; otherwise it was declined (or an
   * operator failed it).
   */
  const { apply, finish } = makeGatewayAnswer(deps, async (tx, seen) =>
    seen.creditRefused || (seen.charged && (await overLimit(tx))) ? creditRefused(tx) : new PaymentFailed(tx.id));

  return async (caller: Caller, input: DepositInput): Promise<IdempotentResult> => {
    assertOwner(caller, input.userId);
    const money = checkMoney(deps, input.amount, input.currency);
    const { idempotencyKey, ...request } = input;
    const paymentToken = input.paymentToken ?? DEFAULT_PAYMENT_TOKEN;
    const scope = idempotencyScope(deps, caller.id, idempotencyKey, 'deposit', { ...request, paymentToken });
    const ctx = idempotencyContext(deps);
    const owner = early(requireUser(deps, input.userId));
    const balances = early(ledger.getBalances(input.userId));

    return withIdempotency(ctx, scope, async (claim) => {
      await owner;
      let tx = claim.transactionId ? await ledger.getTransaction(claim.transactionId) : null;
      if (tx && tx.status !== 'pending') return finish(tx, scope);
      if (!tx) {
        // Never charge what cannot be credited. (A race past this check fails the deposit at settlement.)
        if (cannotHold(await balances, money)) throw new BalanceOverflow();
        tx = await ledger.createDeposit(
          {
            id: deps.ids.transactionId(),
            type: 'deposit',
            status: 'pending',
            userId: input.userId,
            ...money,
            metadata: input.metadata ?? {},
            refundedAmount: 0,
            createdAt: ctx.now,
            updatedAt: ctx.now,
          },
          scope,
        );
      }
      const deposit = tx;
      const result = await gateway.charge({ depositId: deposit.id, amount: deposit.amount, currency: deposit.currency, paymentToken }).catch((err: unknown) => {
        // Outcome unknown: the 502 names the deposit, which stays pending for a retry or the reconciler.
        if (err instanceof PaymentGatewayError && err.depositId === undefined) throw new PaymentGatewayError(err.message, deposit.id);
        throw err;
      });
      return apply(deposit, result, scope);
    });
  };
};
