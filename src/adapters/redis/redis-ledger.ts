// The Ledger over Redis. Every write is one Lua script (redis-scripts.ts);
// reads are GET / MGET / HGETALL / ZREVRANGEBYLEX, never SCAN.
import type { Redis } from 'ioredis';
import { BalanceOverflow, IdempotencyKeyInUse, InsufficientFunds, InvalidStateTransition, ServiceUnavailable, TransactionNotFound } from '../../core/errors';
import { parseStoredAmount, type Balance, type Currency } from '../../core/money';
import type {
  ClaimTimes, HistoryQuery, IdempotencyClaim, IdempotencyOutcome, IdempotencyScope, Ledger, SettleInput,
} from '../../core/ports';
import type { Metadata, Transaction } from '../../core/transaction';
import { profileNotFound } from '../../core/user';
import { redisCall } from './redis-errors';
import { historyMember, idOfMember, type RedisKeys } from './redis-keys';
import { runScript, type ScriptName } from './redis-scripts';

/** Integer string for Lua/HINCRBY; refuses anything that is not a positive safe integer. */
export const amountArg = (amount: number): string => {
  if (!Number.isSafeInteger(amount) || amount < 1) throw new RangeError(`amount ${amount} is not a positive safe integer`);
  return String(amount);
};

export const transactionJson = (tx: Transaction): string => JSON.stringify(tx);
export const parseTransaction = (raw: string): Transaction => JSON.parse(raw) as Transaction;
export const outcomeJson = (outcome: IdempotencyOutcome): string => JSON.stringify(outcome);

export interface ScriptCall {
  keys: string[];
  args: string[];
}

const withIdem = (keys: RedisKeys, base: string[], idem: IdempotencyScope | undefined): string[] =>
  idem ? [...base, keys.idempotency(idem)] : base;

/** The token goes last in ARGV whenever the idem key goes last in KEYS: the script checks it before any effect. */
const withToken = (base: string[], idem: IdempotencyScope | undefined): string[] => (idem ? [...base, idem.token] : base);

/**
 * The fast path's ARGV tail after the token (see redis-scripts.ts): only with both
 * `idem` and `claim`; otherwise the script checks the held claim as before.
 */
const withClaim = (base: string[], idem: IdempotencyScope | undefined, claim: ClaimTimes | undefined): string[] =>
  idem && claim
    ? [...base, 'claim', idem.fingerprint, claim.leaseUntil, claim.expiresAt, String(Date.parse(claim.expiresAt))]
    : base;

/** A script's answer when the request no longer holds its idempotency key (taken over, finished, released, never claimed). */
const NOT_HELD = 'not_held';

/** A scripted write that found its key not held had no effect: the request must stop. */
const refuseNotHeld = (result: unknown): unknown => {
  if (result === NOT_HELD) throw new IdempotencyKeyInUse();
  return result;
};

/**
 * The exact transfer script call the ledger makes (also used by the benchmark for raw EVALSHA).
 * With `idem` and `claim`: the fast path, claiming the new key inside the same script.
 */
export const transferCall = (keys: RedisKeys, tx: Transaction, idem?: IdempotencyScope, claim?: ClaimTimes): ScriptCall => {
  if (!tx.toUserId) throw new RangeError('transfer without toUserId');
  const json = transactionJson(tx);
  return {
    keys: withIdem(keys, [
      keys.balances(tx.userId), keys.balances(tx.toUserId), keys.transaction(tx.id), keys.history(tx.userId), keys.history(tx.toUserId),
      keys.user(tx.userId), keys.user(tx.toUserId),
    ], idem),
    args: withClaim(withToken([tx.currency, amountArg(tx.amount), json, historyMember(tx), `{"kind":"transaction","transaction":${json}}`], idem), idem, claim),
  };
};

export const withdrawCall = (keys: RedisKeys, tx: Transaction, idem?: IdempotencyScope, claim?: ClaimTimes): ScriptCall => {
  const json = transactionJson(tx);
  return {
    keys: withIdem(keys, [keys.balances(tx.userId), keys.transaction(tx.id), keys.history(tx.userId), keys.user(tx.userId)], idem),
    args: withClaim(withToken([tx.currency, amountArg(tx.amount), json, historyMember(tx), `{"kind":"transaction","transaction":${json}}`], idem), idem, claim),
  };
};

// A compare-and-set loses only to another writer of the same transaction; a few rounds always suffice in practice.
const MAX_CAS_ROUNDS = 20;

export const makeRedisLedger = (client: Redis, keys: RedisKeys): Ledger => {
  /** Runs one script; a 'not_held' answer becomes IdempotencyKeyInUse. */
  const run = async (name: ScriptName, call: ScriptCall): Promise<unknown> =>
    refuseNotHeld(await redisCall(runScript(client, name, call.keys, call.args)));

  const read = async (id: string): Promise<{ raw: string; tx: Transaction } | null> => {
    const raw = await redisCall(client.get(keys.transaction(id)));
    return raw === null ? null : { raw, tx: parseTransaction(raw) };
  };

  /** Re-reads after 'exists': a lost reply's script did run; answer what it stored. */
  const alreadyStored = async (tx: Transaction): Promise<Transaction> => {
    const stored = await read(tx.id);
    if (!stored) throw new ServiceUnavailable();
    return stored.tx;
  };

  /** Applies `change` to the stored transaction with compare-and-set, re-reading on conflict. */
  const replace = async (id: string, change: (tx: Transaction) => Transaction): Promise<Transaction> => {
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const current = await read(id);
      if (!current) throw new TransactionNotFound();
      const next = change(current.tx);
      const json = transactionJson(next);
      const result = await run('replaceTransaction', { keys: [keys.transaction(id)], args: [current.raw, json] });
      if (result === 'ok') return parseTransaction(json);
      if (result === 'missing') throw new TransactionNotFound();
    }
    throw new ServiceUnavailable('The transaction is changing too often, try again shortly');
  };

  const moneyResult = async (result: unknown, tx: Transaction): Promise<Transaction> => {
    switch (result) {
      case 'ok':
        return parseTransaction(transactionJson(tx));
      case 'exists':
        return alreadyStored(tx);
      case 'no_user':
        throw profileNotFound();
      case 'no_recipient':
        throw profileNotFound('toUserId');
      case 'insufficient':
        throw new InsufficientFunds();
      case 'overflow':
        throw new BalanceOverflow();
      default:
        throw new Error(`unexpected script reply ${String(result)}`);
    }
  };

  const fetchAll = async (members: string[]): Promise<Transaction[]> => {
    if (members.length === 0) return [];
    const raws = await redisCall(client.mget(members.map((m) => keys.transaction(idOfMember(m)))));
    return raws.filter((r): r is string => r !== null).map(parseTransaction);
  };

  return {
    claimsWithMovement: true,
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
        keys: withIdem(keys, [keys.transaction(tx.id), keys.history(tx.userId), keys.pendingDeposits(), keys.balances(tx.userId)], idem),
        args: withToken([transactionJson(tx), historyMember(tx), tx.currency, tx.id, tx.status === 'pending' ? '1' : '0'], idem),
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
            keys: withIdem(keys, [keys.transaction(input.id), keys.balances(userId), keys.pendingDeposits()], idem),
            args: withToken(['', '', '0', '', '', '', '', ''], idem),
          });
        }
        throw err;
      };
      for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
        const current = await read(input.id);
        if (!current) return refuse(new TransactionNotFound(), '');
        const { tx } = current;
        if (tx.status !== 'pending') return refuse(new InvalidStateTransition(tx.status, input.status), tx.userId);
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
          keys: withIdem(keys, [keys.transaction(tx.id), keys.balances(tx.userId), keys.pendingDeposits()], idem),
          args: withToken([current.raw, json, credit ? '1' : '0', tx.currency, amountArg(tx.amount), historyMember(tx),
            `{"kind":"transaction","transaction":${json}}`, failedJson], idem),
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
      return moneyResult(await run('withdraw', withdrawCall(keys, tx, idem, claim)), tx);
    },
    async transfer(tx, idem, claim) {
      return moneyResult(await run('transfer', transferCall(keys, tx, idem, claim)), tx);
    },
    async setPaymentRef(id, paymentRef) {
      await replace(id, (tx) => ({ ...tx, paymentRef }));
    },
    async updateMetadata(id: string, metadata: Metadata, now: string) {
      return replace(id, (tx) => ({ ...tx, metadata: { ...metadata }, updatedAt: now }));
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
      const members = await redisCall(client.zrangebylex(keys.pendingDeposits(), '-', `(${createdBefore}`, 'LIMIT', 0, limit));
      return (await fetchAll(members)).filter((tx) => tx.status === 'pending');
    },
    async getBalances(userId): Promise<Balance[]> {
      const raw = await redisCall(client.hgetall(keys.balances(userId)));
      return Object.entries(raw)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([currency, available]) => ({ currency: currency as Currency, available: parseStoredAmount(available) }));
    },
  };
};
