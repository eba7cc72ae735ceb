import type { Metadata, Transaction } from '../transaction';
import type { Deps } from './deps';

/** A new completed withdrawal or transfer, stamped with the request's time. */
export const completedMovement = (
  deps: Pick<Deps, 'ids'>,
  now: string,
  fields: Pick<Transaction, 'type' | 'userId' | 'amount' | 'currency'> & { toUserId?: string; metadata?: Metadata | undefined },
): Transaction => ({
  id: deps.ids.transactionId(),
  status: 'completed',
  ...fields,
  metadata: fields.metadata ?? {},
  refundedAmount: 0,
  createdAt: now,
  updatedAt: now,
});
