import { BalanceOverflow, InvalidStateTransition, NotFound, PaymentFailed, PaymentGatewayError } from '../errors';
import { MAX_BALANCE, type Balance } from '../money';
import { withIdempotency, type IdempotentResult } from '../idempotency';
import type { IdempotencyScope, PaymentResult } from '../ports';
import type { Metadata, Transaction } from '../transaction';
import { creditRefused } from './credit-refused';
import type { Caller, Deps } from './deps';
import { checkMoney } from './check-money';
import { early } from './early';
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
   * Answers for a deposit someone else settled. `charged`: the gateway has just said the
   * payment succeeded; a failed deposit whose balance cannot hold it was refused its
   * credit (the balance limit), not declined (an operator may also have failed it).
   */
  const finish = async (tx: Transaction, scope: IdempotencyScope | undefined, charged = false): Promise<Transaction> => {
    if (tx.status === 'failed') throw charged && (await overLimit(tx)) ? creditRefused(tx) : new PaymentFailed(tx.id);
    if (tx.status === 'completed' && scope) await ledger.completeIdempotency(scope, { kind: 'transaction', transaction: tx });
    return tx;
  };

  /** Applies the gateway's answer; if someone settled it meanwhile (reconciler, admin), use theirs. */
  const apply = async (tx: Transaction, result: PaymentResult, scope: IdempotencyScope | undefined): Promise<Transaction> => {
    if (result.status === 'pending') {
      if (tx.paymentRef !== result.paymentRef) await ledger.setPaymentRef(tx.id, result.paymentRef);
      if (scope) await ledger.completeIdempotency(scope, { kind: 'transaction', transaction: tx });
      return tx;
    }
    const status = result.status === 'succeeded' ? 'completed' : 'failed';
    try {
      const settled = await ledger.settle({ id: tx.id, status, now: deps.clock.now() }, status === 'completed' ? scope : undefined);
      if (status === 'completed' && settled.status === 'failed') throw creditRefused(settled);
      if (settled.status === 'failed') throw new PaymentFailed(settled.id);
      return settled;
    } catch (err) {
      if (!(err instanceof InvalidStateTransition)) throw err;
      const current = await ledger.getTransaction(tx.id);
      if (!current) throw new NotFound();
      return finish(current, scope, result.status === 'succeeded');
    }
  };

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
