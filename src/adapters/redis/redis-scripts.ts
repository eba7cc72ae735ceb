// Every state change is one Lua script: Redis runs a script alone, so its checks and
// writes are one atomic step. Scripts check everything before their first write (Redis
// does not roll a script back). Numbers: Lua 5.1 numbers are doubles, exact for
// integers up to 2^53; amounts and balances are kept at or below 2^53-1
// (MAX_BALANCE), so `tonumber` comparisons are exact. Lua numbers are never turned
// back into strings with tostring (that would print 1e+15): increments use integer
// strings with HINCRBY, which does 64-bit integer arithmetic — the caller's, or
// string.format('%d', n), which prints an integer below 2^53 exactly.
//
// Idempotency: a claim stores the request's token on the key's hash. Every script that
// writes for a key (its KEYS end with the idem key, its ARGV with the token) first
// checks `held` — the record exists, is in flight, and has that token — and otherwise
// answers 'not_held' before any effect: a request whose lease ran out and was taken
// over moves no money and records nothing.
//
// The fast path (Ledger.claimsWithMovement, claimsWithHold, claimsWithCapture): withdraw,
// transfer, createHold and captureHold may take, right after the token, the tail 'claim', fingerprint,
// leaseUntil, expiresAt, expiresAtMs (redis-fast-path-scripts.ts). The key must then
// have no record at all (else 'not_held', no effect), and the script creates it
// already done — the same hash, fields and PEXPIREAT that claimIdempotency followed
// by the script without the tail would leave — all in the one script.
//
// Events: every script that changes a transaction or hold counts the change and, with
// events on, writes its event in the same script (redis-outbox-scripts.ts).
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { MOVEMENT_KEY } from './redis-fast-path-scripts';
import { HOLD_SOURCES, HOLDS } from './redis-hold-scripts';
import { EVENTS, OUTBOX_SOURCES } from './redis-outbox-scripts';
import { REFUND_SOURCES } from './redis-refund-scripts';

const COMMON = `
local MAX = 9007199254740991
-- No key: the write is not idempotent, nothing to check.
local function held(key, token)
  if not key then return true end
  local r = redis.call('HMGET', key, 'state', 'token')
  return r[1] == 'in_flight' and r[2] == token
end
local function finish(key, outcome)
  if key and redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'state', 'done', 'outcome', outcome)
  end
end
${EVENTS}`;

/**
 * KEYS: idem. ARGV: now, leaseUntil, expiresAt, expiresAtMs, fingerprint, token.
 * The decision is decideClaim (src/core/idempotency-decision.ts) written in Lua: keep
 * the two in step. ISO strings compare in time order, so they stand in for its epoch ms.
 */
const claimIdempotency = `
-- BEGIN mirror of decideClaim(record, fingerprint, now) in src/core/idempotency-decision.ts.
-- r: fp, state, leaseUntil, expiresAt, txId, outcome (false where absent).
local function decideClaim(r, fingerprint, now)
  if not r[1] or r[4] <= now then return 'new' end
  if r[1] ~= fingerprint then return 'mismatch' end
  if r[2] == 'done' and r[6] then return 'replay' end
  if r[2] == 'in_flight' and r[3] > now then return 'in_use' end
  return 'take_over'
end
-- END mirror of decideClaim.

local r = redis.call('HMGET', KEYS[1], 'fp', 'state', 'leaseUntil', 'expiresAt', 'txId', 'outcome')
local decision = decideClaim(r, ARGV[5], ARGV[1])
if decision == 'new' then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'fp', ARGV[5], 'state', 'in_flight', 'token', ARGV[6], 'leaseUntil', ARGV[2], 'expiresAt', ARGV[3])
  redis.call('PEXPIREAT', KEYS[1], ARGV[4])
  return {'claimed', ''}
end
if decision == 'take_over' then
  redis.call('HSET', KEYS[1], 'state', 'in_flight', 'token', ARGV[6], 'leaseUntil', ARGV[2])
  return {'claimed', r[5] or ''}
end
if decision == 'replay' then return {'replay', r[6]} end
return {decision}
`;

/** KEYS: idem. ARGV: outcome JSON, token. */
const completeIdempotency = `
if not held(KEYS[1], ARGV[2]) then return 'not_held' end
finish(KEYS[1], ARGV[1])
return 'ok'
`;

/** KEYS: idem. ARGV: token. Only an in-flight claim held with the token is freed; a finished outcome or another request's claim stays. */
const releaseIdempotency = `
if held(KEYS[1], ARGV[1]) then
  redis.call('HSET', KEYS[1], 'state', 'open')
end
return 'ok'
`;

/** KEYS: user. ARGV: profile JSON. */
const createUser = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 'exists' end
return 'ok'
`;

/**
 * KEYS: tx, history, pending, balances, outbox ×3, [idem]. ARGV: tx JSON, member, currency, txId, isPending,
 * status, createdAt, event seed, [token].
 */
const createDeposit = `
useOutbox(5, 8)
if not held(KEYS[8], ARGV[9]) then return 'not_held' end
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
txChanged(KEYS[1], ARGV[1], 1, ARGV[6], ARGV[7])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
if ARGV[5] == '1' then redis.call('ZADD', KEYS[3], 0, ARGV[2]) end
-- The user holds this currency from now on, at zero until the deposit settles.
redis.call('HSETNX', KEYS[4], ARGV[3], '0')
if KEYS[8] and redis.call('EXISTS', KEYS[8]) == 1 then redis.call('HSET', KEYS[8], 'txId', ARGV[4]) end
return 'ok'
`;

/**
 * Settles a pending deposit (refunds: settleRefund in redis-refund-scripts.ts).
 * KEYS: tx, balances, pending, outbox ×3, [idem]. ARGV: expected JSON, new JSON, credit?, currency, amount,
 * member, outcome, failed JSON, new status, now, event seed, [token].
 * Compare-and-set on the whole stored JSON: the caller read it, decided the new state,
 * and the script applies it only if nothing changed meanwhile ('conflict' → re-read).
 * A credit the balance cannot hold stores the failed JSON instead, records no outcome
 * (the caller records its refusal) and answers 'overflow'.
 */
const settle = `
useOutbox(4, 11)
if not held(KEYS[7], ARGV[12]) then return 'not_held' end
local current = redis.call('GET', KEYS[1])
if not current then return 'missing' end
if current ~= ARGV[1] then return 'conflict' end
local version = txVersion(current) + 1
if ARGV[3] == '1' then
  local balance = tonumber(redis.call('HGET', KEYS[2], ARGV[4]) or '0')
  if balance > MAX - tonumber(ARGV[5]) then
    txChanged(KEYS[1], ARGV[8], version, 'failed', ARGV[10])
    redis.call('ZREM', KEYS[3], ARGV[6])
    return 'overflow'
  end
  redis.call('HINCRBY', KEYS[2], ARGV[4], ARGV[5])
end
txChanged(KEYS[1], ARGV[2], version, ARGV[9], ARGV[10])
redis.call('ZREM', KEYS[3], ARGV[6])
finish(KEYS[7], ARGV[7])
return 'ok'
`;

/**
 * KEYS: tx, outbox ×3. ARGV: expected JSON, new JSON, event ('updated', or '' for an
 * internal field that is no change of the resource: version kept, no event), now, event seed.
 * Metadata and payment ref changes.
 */
const replaceTransaction = `
useOutbox(2, 5)
local current = redis.call('GET', KEYS[1])
if not current then return 'missing' end
if current ~= ARGV[1] then return 'conflict' end
if ARGV[3] == '' then
  storeTx(KEYS[1], ARGV[2], txVersion(current))
else
  txChanged(KEYS[1], ARGV[2], txVersion(current) + 1, ARGV[3], ARGV[4])
end
return 'ok'
`;

/**
 * KEYS: balances, tx, history, user, live holds, hold expiries, outbox ×3, [idem]. ARGV:
 * currency, amount, tx JSON, member, outcome, now, nowMs, hold key prefix, status, event
 * seed, [token, [claim tail]].
 * An existing tx key means this very transaction already ran: never apply it twice.
 * The owner's profile is checked here, in the same script ('no_user'). The owner's
 * expired holds in the currency count as available and are released with the debit.
 */
const withdraw = `${MOVEMENT_KEY}${HOLDS}
useOutbox(7, 10)
local ready = keyAndTxReady(KEYS[10], 11, KEYS[2])
if ready ~= 'ok' then return ready end
if redis.call('EXISTS', KEYS[4]) == 0 then return 'no_user' end
local due, freed = expiredHolds(KEYS[5], ARGV[8], ARGV[1], ARGV[6], ARGV[7])
local available = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if available + freed < tonumber(ARGV[2]) then return 'insufficient' end
releaseHolds(due, ARGV[8], KEYS[1], KEYS[5], KEYS[6], ARGV[1])
redis.call('HINCRBY', KEYS[1], ARGV[1], '-' .. ARGV[2])
txChanged(KEYS[2], ARGV[3], 1, ARGV[9], ARGV[6])
redis.call('ZADD', KEYS[3], 0, ARGV[4])
record(KEYS[10], 11, ARGV[5])
return 'ok'
`;

/**
 * KEYS: from balances, to balances, tx, from history, to history, from user, to user,
 * from live holds, hold expiries, outbox ×3, [idem]. ARGV: currency, amount, tx JSON,
 * member, outcome, now, nowMs, hold key prefix, status, event seed, [token, [claim tail]].
 * Both profiles are checked here, sender first ('no_user', 'no_recipient'); the
 * sender's expired holds are released as for a withdrawal.
 */
const transfer = `${MOVEMENT_KEY}${HOLDS}
useOutbox(10, 10)
local ready = keyAndTxReady(KEYS[13], 11, KEYS[3])
if ready ~= 'ok' then return ready end
if redis.call('EXISTS', KEYS[6]) == 0 then return 'no_user' end
if redis.call('EXISTS', KEYS[7]) == 0 then return 'no_recipient' end
local amount = tonumber(ARGV[2])
local due, freed = expiredHolds(KEYS[8], ARGV[8], ARGV[1], ARGV[6], ARGV[7])
local from = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if from + freed < amount then return 'insufficient' end
local to = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if to > MAX - amount then return 'overflow' end
releaseHolds(due, ARGV[8], KEYS[1], KEYS[8], KEYS[9], ARGV[1])
redis.call('HINCRBY', KEYS[1], ARGV[1], '-' .. ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[1], ARGV[2])
txChanged(KEYS[3], ARGV[3], 1, ARGV[9], ARGV[6])
redis.call('ZADD', KEYS[4], 0, ARGV[4])
redis.call('ZADD', KEYS[5], 0, ARGV[4])
record(KEYS[13], 11, ARGV[5])
return 'ok'
`;

const SOURCES = {
  claimIdempotency,
  completeIdempotency,
  releaseIdempotency,
  createUser,
  createDeposit,
  settle,
  replaceTransaction,
  withdraw,
  transfer,
  ...HOLD_SOURCES,
  ...REFUND_SOURCES,
  ...OUTBOX_SOURCES,
} as const;

export type ScriptName = keyof typeof SOURCES;

const COMMAND_PREFIX = 'wallet_';

/** The full Lua source of a script, as sent to Redis. */
export const scriptSource = (name: ScriptName): string => COMMON + SOURCES[name];

/** The SHA1 Redis knows the script by (for EVALSHA). */
export const scriptSha = (name: ScriptName): string => createHash('sha1').update(scriptSource(name)).digest('hex');

type ScriptCommand = (numKeys: number, ...keysAndArgs: string[]) => Promise<unknown>;

/** Registers every script once per client: ioredis sends EVALSHA, and EVAL after a NOSCRIPT. */
export const defineScripts = (client: Redis): void => {
  for (const name of Object.keys(SOURCES) as ScriptName[]) {
    if (typeof (client as unknown as Record<string, unknown>)[COMMAND_PREFIX + name] === 'function') continue;
    client.defineCommand(COMMAND_PREFIX + name, { lua: scriptSource(name) });
  }
};

/** Runs a defined script; the key count is passed per call because the idempotency key is optional. */
export const runScript = (client: Redis, name: ScriptName, keys: string[], args: string[]): Promise<unknown> => {
  const command = (client as unknown as Record<string, ScriptCommand | undefined>)[COMMAND_PREFIX + name];
  if (!command) throw new Error(`Redis script ${name} is not defined on this client`);
  return command.call(client, keys.length, ...keys, ...args);
};
