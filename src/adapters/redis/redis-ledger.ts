// The Ledger over Redis. Every write is one Lua script (redis-scripts.ts); holds
// (redis-holds.ts) and refunds (redis-refunds.ts) follow the same rules. Reads are
// GET / MGET / HGETALL / ZREVRANGEBYLEX and a read-only script for balances, never SCAN.
// With `events`, every changing script also writes the change's event (redis-outbox-scripts.ts).
import type { Redis } from 'ioredis';
import { InvalidStateTransition, ServiceUnavailable, TransactionNotFound } from '../../core/errors';
import type { Balance } from '../../core/money';
import type {
  ClaimTimes, HistoryQuery, IdempotencyClaim, IdempotencyOutcome, IdempotencyScope, Ledger, SettleInput,
} from '../../core/ports';
import type { Metadata, Transaction } from '../../core/transaction';
import { parseBalances } from './redis-balances';
import {
  amountArg, eventSeed, expiryArgs, makeLedgerContext, MAX_CAS_ROUNDS, outcomeJson, parseTransaction, transactionJson,
  transactionOutcomeJson, withClaim, withIdem, withToken, type ScriptCall,
} from './redis-calls';
import { redisCall, scriptRefusal } from './redis-errors';
import { makeRedisHolds } from './redis-holds';
import { historyMember, idOfMember, outboxKeys, type RedisKeys } from './redis-keys';
import { makeRedisRefund, settleRefundRound } from './redis-refunds';

/**
 * The exact transfer script call the ledger makes (also used by the benchmark for raw EVALSHA).
 * With `idem` and `claim`: the fast path, claiming the new key inside the same script.
 * With `events`: the script also writes the transfer's event.
 */
export const transferCall = (keys: RedisKeys, tx: Transaction, idem?: IdempotencyScope, claim?: ClaimTimes, events = false): ScriptCall => {
  if (!tx.toUserId) throw new RangeError('transfer without toUserId');
  const json = transactionJson(tx);
  return {
    keys: withIdem(keys, [
      keys.balances(tx.userId), keys.balances(tx.toUserId), keys.transaction(tx.id), keys.history(tx.userId), keys.history(tx.toUserId),
      keys.user(tx.userId), keys.user(tx.toUserId), keys.liveHolds(tx.userId), keys.holdExpiries(), ...outboxKeys(keys),
    ], idem),
    args: withClaim(withToken([tx.currency, amountArg(tx.amount), json, historyMember(tx), transactionOutcomeJson(json),
      ...expiryArgs(keys, tx.createdAt), tx.status, eventSeed(events)], idem), idem, claim),
  };
};

export const withdrawCall = (keys: RedisKeys, tx: Transaction, idem?: IdempotencyScope, claim?: ClaimTimes, events = false): ScriptCall => {
  const json = transactionJson(tx);
  return {
    keys: withIdem(keys, [
      keys.balances(tx.userId), keys.transaction(tx.id), keys.history(tx.userId), keys.user(tx.userId), keys.liveHolds(tx.userId), keys.holdExpiries(),
      ...outboxKeys(keys),
    ], idem),
    args: withClaim(withToken([tx.currency, amountArg(tx.amount), json, historyMember(tx), transactionOutcomeJson(json),
      ...expiryArgs(keys, tx.createdAt), tx.status, eventSeed(events)], idem), idem, claim),
  };
};

export interface RedisLedgerOptions {
  /** Write an event for every change into the outbox (EVENT_BUS_NAME is set). */
  events?: boolean;
}

export const makeRedisLedger = (client: Redis, keys: RedisKeys, options: RedisLedgerOptions = {}): Ledger => {
  const events = options.events ?? false;
  const ctx = makeLedgerContext(client, keys, events);
  const { run, read, outbox, seed } = ctx;

  /** Re-reads after 'exists': a lost reply's script did run; answer what it stored. */
  const alreadyStored = async (tx: Transaction): Promise<Transaction> => {
    const stored = await read(tx.id);
    if (!stored) throw new ServiceUnavailable();
    return stored.tx;
  };

  /**
   * Applies `change` to the stored transaction with compare-and-set, re-reading on conflict.
   * With `updatedAt` it is a change of the resource (transaction.updated); without, an internal field.
   */
  const replace = async (id: string, change: (tx: Transaction) => Transaction, updatedAt?: string): Promise<Transaction> => {
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const current = await read(id);
      if (!current) throw new TransactionNotFound();
      const next = change(current.tx);
      const json = transactionJson(next);
      const result = await run('replaceTransaction', {
        keys: [keys.transaction(id), ...outbox],
        args: [current.raw, json, updatedAt === undefined ? '' : 'updated', updatedAt ?? '', seed()],
      });
      if (result === 'ok') return parseTransaction(json);
      if (result === 'missing') throw new TransactionNotFound();
    }
    throw new ServiceUnavailable('The transaction is changing too often, try again shortly');
  };

  const moneyResult = async (result: unknown, tx: Transaction): Promise<Transaction> => {
    if (result === 'ok') return parseTransaction(transactionJson(tx));
    if (result === 'exists') return alreadyStored(tx);
    throw scriptRefusal(result);
  };

  /** Oldest first, created before `createdBefore`. */
  const pendingOf = async (set: string, createdBefore: string, limit: number): Promise<Transaction[]> => {
    const members = await redisCall(client.zrangebylex(set, '-', `(${createdBefore}`, 'LIMIT', 0, limit));
    return (await fetchAll(members)).filter((tx) => tx.status === 'pending');
  };

  const fetchAll = async (members: string[]): Promise<Transaction[]> => {
    if (members.length === 0) return [];
    const raws = await redisCall(client.mget(members.map((m) => keys.transaction(idOfMember(m)))));
    return raws.filter((r): r is string => r !== null).map(parseTransaction);
  };

  return {
    claimsWithMovement: true,
    claimsWithHold: true,
    claimsWithCapture: true,
    async claimIdempotency(scope: IdempotencyScope, times: ClaimTimes): Promise<IdempotencyClaim> {
      const reply = (await run('claimIdempotency', {
        keys: [keys.idempotency(scope)],
        args: [times.now, times.leaseUntil, times.expiresAt, String(Date.parse(times.expiresAt)), scope.fingerprint, scope.token],
      })) as string[];
      const [kind, value] = reply;
      switch (kind) {
        case 'claimed':
          return value ? { kind: 'claimed', transactionId: value } : { kind: 'claimed' };
        case 'replay':
          return { kind: 'replay', outcome: JSON.parse(value ?? 'null') as IdempotencyOutcome };
        case 'in_use':
          return { kind: 'in_use' };
        case 'mismatch':
          return { kind: 'mismatch' };
        default:
          throw new Error(`unexpected claim reply ${String(kind)}`);
      }
    },
    async completeIdempotency(scope, outcome) {
      await run('completeIdempotency', { keys: [keys.idempotency(scope)], args: [outcomeJson(outcome), scope.token] });
    },
    async releaseIdempotency(scope) {
      await run('releaseIdempotency', { keys: [keys.idempotency(scope)], args: [scope.token] });
    },

    async createDeposit(tx, idem) {
      const result = await run('createDeposit', {
        keys: withIdem(keys, [keys.transaction(tx.id), keys.history(tx.userId), keys.pendingDeposits(), keys.balances(tx.userId), ...outbox], idem),
        args: withToken([transactionJson(tx), historyMember(tx), tx.currency, tx.id, tx.status === 'pending' ? '1' : '0', tx.status, tx.createdAt,
          seed()], idem),
      });
      return result === 'exists' ? alreadyStored(tx) : parseTransaction(transactionJson(tx));
    },

    async settle(input: SettleInput, idem) {
      /**
       * Refusals decided from the read (missing, no longer pending) come after the key
       * check, as the port orders them: with `idem`, the settle script runs with an
       * expected JSON no stored transaction has, which checks the key and writes nothing.
       */
      const refuse = async (err: Error, userId: string): Promise<never> => {
        if (idem) {
          await run('settle', {
            keys: withIdem(keys, [keys.transaction(input.id), keys.balances(userId), keys.pendingDeposits(), ...outbox], idem),
            args: withToken(['', '', '0', '', '', '', '', '', '', '', ''], idem),
          });
        }
        throw err;
      };
      for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
        const current = await read(input.id);
        if (!current) return refuse(new TransactionNotFound(), '');
        const { tx } = current;
        if (tx.status !== 'pending') return refuse(new InvalidStateTransition(tx.status, input.status), tx.userId);
        if (tx.type === 'refund') {
          const settled = await settleRefundRound(ctx, current, input, idem);
          if (settled) return settled;
          continue;
        }
        const next: Transaction = {
          ...tx,
          status: input.status,
          updatedAt: input.now,
          ...(input.metadata && { metadata: { ...input.metadata } }),
        };
        const json = transactionJson(next);
        const credit = input.status === 'completed' && tx.type === 'deposit';
        // Stored instead when the balance cannot hold the credit.
        const failedJson = credit ? transactionJson({ ...next, status: 'failed' }) : '';
        const result = await run('settle', {
          keys: withIdem(keys, [keys.transaction(tx.id), keys.balances(tx.userId), keys.pendingDeposits(), ...outbox], idem),
          args: withToken([current.raw, json, credit ? '1' : '0', tx.currency, amountArg(tx.amount), historyMember(tx),
            transactionOutcomeJson(json), failedJson, input.status, input.now, seed()], idem),
        });
        if (result === 'ok') return parseTransaction(json);
        if (result === 'missing') throw new TransactionNotFound();
        if (result === 'overflow') return parseTransaction(failedJson);
        // 'conflict': someone changed it meanwhile; the next round sees their version.
      }
      throw new ServiceUnavailable('The transaction is changing too often, try again shortly');
    },
    // With `claim` (the fast path), a key with any record answers 'not_held': IdempotencyKeyInUse, no effect.
    async withdraw(tx, idem, claim) {
      return moneyResult(await run('withdraw', withdrawCall(keys, tx, idem, claim, events)), tx);
    },
    async transfer(tx, idem, claim) {
      return moneyResult(await run('transfer', transferCall(keys, tx, idem, claim, events)), tx);
    },
    ...makeRedisHolds(ctx),
    refund: makeRedisRefund(ctx),

    async setPaymentRef(id, paymentRef) {
      await replace(id, (tx) => ({ ...tx, paymentRef }));
    },
    async updateMetadata(id: string, metadata: Metadata, now: string) {
      return replace(id, (tx) => ({ ...tx, metadata: { ...metadata }, updatedAt: now }), now);
    },

    async getTransaction(id) {
      return (await read(id))?.tx ?? null;
    },
    async listTransactions(q: HistoryQuery) {
      const filtered = q.type !== undefined || q.status !== undefined;
      // Filters are applied here, so read bounded batches until `limit` items match.
      const batch = filtered ? Math.min(Math.max(q.limit * 2, 50), 500) : q.limit;
      const out: Transaction[] = [];
      let max = q.before ? `(${historyMember(q.before)}` : '+';
      for (;;) {
        const members = await redisCall(client.zrevrangebylex(keys.history(q.userId), max, '-', 'LIMIT', 0, batch));
        for (const tx of await fetchAll(members)) {
          if (q.type && tx.type !== q.type) continue;
          if (q.status && tx.status !== q.status) continue;
          out.push(tx);
          if (out.length === q.limit) return out;
        }
        const last = members[members.length - 1];
        if (members.length < batch || last === undefined) return out;
        max = `(${last}`;
      }
    },
    async listPendingDeposits({ createdBefore, limit }) {
      return pendingOf(keys.pendingDeposits(), createdBefore, limit);
    },
    async listPendingRefunds({ createdBefore, limit }) {
      return pendingOf(keys.pendingRefunds(), createdBefore, limit);
    },
    async getBalances(userId, now = new Date().toISOString()): Promise<Balance[]> {
      // One script, so the balances and the holds past their expiry are read at one instant.
      const [hash, expired] = (await run('readBalances', { keys: [keys.balances(userId), keys.liveHolds(userId)], args: expiryArgs(keys, now) })) as [string[], string[]];
      return parseBalances(hash, expired);
    },
  };
};
