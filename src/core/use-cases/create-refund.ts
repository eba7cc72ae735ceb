import {
  Forbidden, InvalidRequest, PaymentFailed, PaymentGatewayError, RefundExceedsAmount, TransactionNotFound,
} from '../errors';
import { withIdempotency, type IdempotentResult } from '../idempotency';
import { isValidAmount } from '../money';
import type { IdempotencyScope } from '../ports';
import { isParty, isTransactionId, refundableAmount, refundRefusal, type Metadata, type Transaction } from '../transaction';
import type { Caller, Deps } from './deps';
import { makeGatewayAnswer } from './gateway-answer';
import { idempotencyContext, idempotencyScope } from './idempotency-scope';

/** A party to a transaction who may see it but not refund it (its sender, a deposit's or withdrawal's owner). */
export const refundForbidden = (): Forbidden => new Forbidden('Only an admin, or the payee of a transfer, can refund it');

export interface RefundInput {
  transactionId: string;
  amount?: number;
  metadata?: Metadata;
  idempotencyKey?: string;
}

/** The refund of a deposit the gateway declined: its money is back with the owner. */
export const refundDeclined = (refund: Pick<Transaction, 'id'>): PaymentFailed =>
  new PaymentFailed(refund.id, 'The payment gateway declined the refund; the amount is back in the wallet', undefined);

/**
 * Refunds a completed deposit, withdrawal or transfer, in part or whole. Transfers and
 * withdrawals are refunded in one atomic step. A deposit refund is the deposit inverted:
 * the money leaves the wallet first (a pending refund, linked to the idempotency claim),
 * then the gateway is asked with the refund's id as its key; an unknown outcome leaves it
 * pending (502 naming it) for a retry with the same key or the reconciler, a decline
 * credits the owner back in the step that fails the refund.
 */
export const makeCreateRefund = (deps: Pick<Deps, 'ledger' | 'gateway' | 'clock' | 'ids' | 'limits'>) => {
  const { ledger, gateway } = deps;

  /** A failed deposit refund was declined (or an operator failed it): its money is back with the owner. */
  const { apply, finish } = makeGatewayAnswer(deps, (refund) => refundDeclined(refund));

  /** Asks the gateway to refund a pending deposit refund (again, after an unknown outcome: same key, refunded once). */
  const atGateway = async (refund: Transaction, scope: IdempotencyScope | undefined): Promise<Transaction> => {
    const deposit = refund.refundOf === undefined ? null : await ledger.getTransaction(refund.refundOf);
    if (!deposit) throw new TransactionNotFound();
    const result = await gateway.refund({
      refundId: refund.id,
      depositId: deposit.id,
      ...(deposit.paymentRef !== undefined && { paymentRef: deposit.paymentRef }),
      amount: refund.amount,
      currency: refund.currency,
    }).catch((err: unknown) => {
      if (err instanceof PaymentGatewayError) throw new PaymentGatewayError(err.message, refund.id, 'refund');
      throw err;
    });
    return apply(refund, result, scope);
  };

  return async (caller: Caller, input: RefundInput): Promise<IdempotentResult> => {
    if (input.amount !== undefined && !isValidAmount(input.amount, deps.limits.maxAmount)) {
      throw new InvalidRequest(`amount must be an integer number of minor units from 1 to ${deps.limits.maxAmount}`, 'amount');
    }
    const { idempotencyKey, ...request } = input;
    const scope = idempotencyScope(deps, caller.id, idempotencyKey, 'refund', request);
    const ctx = idempotencyContext(deps);
    return withIdempotency(ctx, scope, async (claim) => {
      // A retry of a deposit refund whose gateway outcome was unknown resumes it.
      const earlier = claim.transactionId ? await ledger.getTransaction(claim.transactionId) : null;
      if (earlier) return earlier.status === 'pending' ? atGateway(earlier, scope) : finish(earlier, scope);

      if (!isTransactionId(input.transactionId)) throw new TransactionNotFound();
      const original = await ledger.getTransaction(input.transactionId);
      if (!original || (!caller.isAdmin && !isParty(original, caller.id))) throw new TransactionNotFound();
      if (!caller.isAdmin && !(original.type === 'transfer' && original.toUserId === caller.id)) {
        throw refundForbidden();
      }
      const amount = input.amount ?? refundableAmount(original);
      const refusal = refundRefusal(original, amount) ?? (amount === 0 ? new RefundExceedsAmount(0) : null);
      if (refusal) throw refusal;
      const transfer = original.type === 'transfer' && original.toUserId !== undefined;
      const refund: Transaction = {
        id: deps.ids.transactionId(),
        type: 'refund',
        status: original.type === 'deposit' ? 'pending' : 'completed',
        // Whose balance it debits (a transfer's payee, a deposit's owner) or credits (a withdrawal's owner).
        userId: transfer ? (original.toUserId as string) : original.userId,
        ...(transfer && { toUserId: original.userId }),
        amount,
        currency: original.currency,
        metadata: input.metadata ?? {},
        refundOf: original.id,
        createdAt: ctx.now,
        updatedAt: ctx.now,
      };
      const stored = await ledger.refund({ refund, now: ctx.now }, scope);
      return stored.status === 'pending' ? atGateway(stored, scope) : stored;
    });
  };
};
