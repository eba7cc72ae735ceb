import {
  BalanceOverflow, HoldExpired, HoldNotFound, InsufficientFunds, InvalidRequest, InvalidStateTransition, ServiceUnavailable,
} from '../../core/errors';
import { profileNotFound } from '../../core/user';

// Replies Redis gives while it cannot serve right now (loading, failover, memory full, busy script).
const TRANSIENT_REPLIES = /^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|OOM|NOREPLICAS|MISCONF)\b/;

/**
 * Connection trouble (refused, closed, not writeable with no offline queue, command
 * timeout, retries exhausted) and transient server replies become ServiceUnavailable
 * (503). A command timeout on a write is an unknown outcome: the idempotency key of
 * the request settles it on retry. Any other reply error is a bug and stays as it is.
 */
export const toStorageError = (err: unknown): Error => {
  if (err instanceof Error && err.name === 'ReplyError' && !TRANSIENT_REPLIES.test(err.message)) return err;
  return new ServiceUnavailable('The wallet store is unavailable, try again shortly');
};

/** Awaits a Redis call, translating its failures. */
export const redisCall = async <T>(p: Promise<T>): Promise<T> => {
  try {
    return await p;
  } catch (err) {
    throw toStorageError(err);
  }
};

/**
 * The DomainError for a refusal code a money script answered (it had no effect).
 * `holdTarget`: the state a hold script tried to move the hold to ('state:<status>' replies).
 */
export const scriptRefusal = (reply: unknown, holdTarget?: 'captured' | 'voided'): Error => {
  switch (reply) {
    case 'no_user':
      return profileNotFound();
    case 'no_recipient':
      return profileNotFound('toUserId');
    case 'insufficient':
      return new InsufficientFunds();
    case 'overflow':
      return new BalanceOverflow();
    case 'hold_missing':
      return new HoldNotFound();
    case 'expired':
      return new HoldExpired();
    case 'too_much':
      return new InvalidRequest('amount exceeds the hold', 'amount');
    default:
      if (holdTarget && typeof reply === 'string' && reply.startsWith('state:')) {
        return new InvalidStateTransition(reply.slice('state:'.length), holdTarget, 'hold', undefined);
      }
      return new Error(`unexpected script reply ${String(reply)}`);
  }
};
