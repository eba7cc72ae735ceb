// What the ledger's parts share to build and run script calls: argument encoding,
// the idempotency key/token tails, the outbox tail, and reading a stored transaction.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { IdempotencyKeyInUse } from '../../core/errors';
import type { ClaimTimes, IdempotencyOutcome, IdempotencyScope } from '../../core/ports';
import type { Transaction } from '../../core/transaction';
import { redisCall } from './redis-errors';
import { outboxKeys, type RedisKeys } from './redis-keys';
import { runScript, type ScriptName } from './redis-scripts';

/** Integer string for Lua/HINCRBY; refuses anything that is not a positive safe integer. */
export const amountArg = (amount: number): string => {
  if (!Number.isSafeInteger(amount) || amount < 1) throw new RangeError(`amount ${amount} is not a positive safe integer`);
  return String(amount);
};

export const transactionJson = (tx: Transaction): string => JSON.stringify(tx);
/** A hash a script answered with HGETALL (field, value, …), as the record ioredis makes of an HGETALL reply. */
export const hashOf = (flat: string[]): Record<string, string> => {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i] as string] = flat[i + 1] as string;
  return record;
};
/** The transaction as stored, or as a script's caller built it: the stored JSON's `version` (the change count) is the store's own. */
export const parseTransaction = (raw: string): Transaction => {
  const { version: _version, ...tx } = JSON.parse(raw) as Transaction & { version?: number };
  return tx;
};
export const outcomeJson = (outcome: IdempotencyOutcome): string => JSON.stringify(outcome);
export const transactionOutcomeJson = (json: string): string => `{"kind":"transaction","transaction":${json}}`;

export interface ScriptCall {
  keys: string[];
  args: string[];
}

export const withIdem = (keys: RedisKeys, base: string[], idem: IdempotencyScope | undefined): string[] =>
  idem ? [...base, keys.idempotency(idem)] : base;

/** The token goes last in ARGV whenever the idem key goes last in KEYS: the script checks it before any effect. */
export const withToken = (base: string[], idem: IdempotencyScope | undefined): string[] => (idem ? [...base, idem.token] : base);

/**
 * The fast path's ARGV tail after the token (see redis-scripts.ts): only with both
 * `idem` and `claim`; otherwise the script checks the held claim as before.
 */
export const withClaim = (base: string[], idem: IdempotencyScope | undefined, claim: ClaimTimes | undefined): string[] =>
  idem && claim
    ? [...base, 'claim', idem.fingerprint, claim.leaseUntil, claim.expiresAt, String(Date.parse(claim.expiresAt))]
    : base;

/** withClaim's tail padded to its full length with '' (no fast path), for a script whose ARGV goes on after it. */
export const claimSlots = (idem: IdempotencyScope | undefined, claim: ClaimTimes | undefined): string[] => {
  const tail = withClaim([], idem, claim);
  return tail.length > 0 ? tail : ['', '', '', '', ''];
};

/** The ARGV a changing script takes after its own: the random seed of its event ids, or '' with events off (no outbox write). */
export const eventSeed = (events: boolean): string => (events ? randomUUID() : '');

/** ARGV for releasing a payer's expired holds before a debit: now, now in ms, the hold key prefix. */
export const expiryArgs = (keys: RedisKeys, now: string): string[] => [now, String(Date.parse(now)), keys.holdPrefix()];

/** A script's answer when the request no longer holds its idempotency key (taken over, finished, released, never claimed). */
const NOT_HELD = 'not_held';

export interface RedisLedgerContext {
  client: Redis;
  keys: RedisKeys;
  /** The keys a changing script takes after its own (redis-outbox-scripts.ts). */
  outbox: string[];
  /** A changing script's event seed: eventSeed of the ledger's `events` option. */
  seed(): string;
  /** Runs one script; a 'not_held' answer (a scripted write that found its key not held had no effect) becomes IdempotencyKeyInUse. */
  run(name: ScriptName, call: ScriptCall): Promise<unknown>;
  read(id: string): Promise<{ raw: string; tx: Transaction } | null>;
}

export const makeLedgerContext = (client: Redis, keys: RedisKeys, events: boolean): RedisLedgerContext => ({
  client,
  keys,
  outbox: outboxKeys(keys),
  seed: () => eventSeed(events),
  run: async (name, call) => {
    const result = await redisCall(runScript(client, name, call.keys, call.args));
    if (result === NOT_HELD) throw new IdempotencyKeyInUse();
    return result;
  },
  read: async (id) => {
    const raw = await redisCall(client.get(keys.transaction(id)));
    return raw === null ? null : { raw, tx: parseTransaction(raw) };
  },
});

// A compare-and-set loses only to another writer of the same transaction; a few rounds always suffice in practice.
export const MAX_CAS_ROUNDS = 20;
