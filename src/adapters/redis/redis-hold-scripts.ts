// The Lua for holds (see redis-scripts.ts for the rules every script follows). A hold
// is a hash (redis-hold.ts); a payer's held money is the `held:<currency>` field of
// their balances hash. A hold stored `held` is in three sets until it leaves that
// state: the payer's listing, the payer's live set and the global expiry set (both
// scored by expiresAt in ms). ISO timestamps have a fixed width, so `expiresAt <= now`
// compares them in time order, as isExpiredAt does. Every change of a hold counts in its
// hash's `version` field and announces the state it left (holdChanged, in EVENTS).
import { MOVEMENT_KEY } from './redis-fast-path-scripts';

/**
 * Shared by every script that debits a payer (withdraw, transfer, createHold, refund)
 * and by the ones that end a hold. Before a debit, the payer's holds in the currency
 * past their expiry are released in the same script (the Ledger port's rule). Their
 * hash keys are found from the payer's live set instead of being passed in KEYS: on
 * Redis Cluster that is safe only because every key shares the prefix's hash tag
 * (docs/redis.md), so they all live in the script's one slot. A script using these
 * has called useOutbox: a release is a change of the hold (hold.expired, at expiresAt).
 */
export const HOLDS = `
-- BEGIN mirror of holdRefusal(hold, to, now) in src/core/hold.ts: expired first, then any state but held.
local function holdRefusal(status, expiresAt, now)
  if status == 'expired' or (status == 'held' and expiresAt <= now) then return 'expired' end
  if status ~= 'held' then return 'state:' .. status end
  return nil
end
-- END mirror of holdRefusal.

-- Reads only: the payer's holds in currency past their expiry, as {id, amount, expiresAt},
-- and their total (exact: each is at most 10^11, together at most the held sum < 2^53).
local function expiredHolds(live, prefix, currency, now, nowMs)
  local due, total = {}, 0
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', live, '-inf', nowMs)) do
    local h = redis.call('HMGET', prefix .. id, 'status', 'currency', 'amount', 'expiresAt')
    if h[1] == 'held' and h[2] == currency and h[4] <= now then
      due[#due + 1] = {id, h[3], h[4]}
      total = total + tonumber(h[3])
    end
  end
  return due, total
end
-- The hold's whole amount (an integer string) leaves held; back (an integer string) of it returns to available.
local function unhold(bal, currency, amount, back)
  redis.call('HINCRBY', bal, 'held:' .. currency, '-' .. amount)
  if back ~= '0' then redis.call('HINCRBY', bal, currency, back) end
end
local function unlist(live, expiries, id)
  redis.call('ZREM', live, id)
  redis.call('ZREM', expiries, id)
end
-- Expired as of expiresAt: the updatedAt every reader computed for it meanwhile (holdAsOf).
local function expire(key, bal, live, expiries, id, currency, amount, expiresAt)
  unhold(bal, currency, amount, amount)
  redis.call('HSET', key, 'status', 'expired', 'updatedAt', expiresAt)
  unlist(live, expiries, id)
  holdChanged(key, expiresAt)
end
local function releaseHolds(due, prefix, bal, live, expiries, currency)
  for _, h in ipairs(due) do expire(prefix .. h[1], bal, live, expiries, h[1], currency, h[2], h[3]) end
end
`;

/**
 * KEYS: hold, balances, holds, live, expiries, payer user, payee user (the payer's again
 * when there is none), outbox ×3, [idem]. ARGV: currency, amount, member, id, expiresAtMs,
 * now, nowMs, hold key prefix, outcome, event seed, token ('' without idem), the fast
 * path's claim tail (withdraw's and transfer's, five '' without it), then the hold's
 * field/value pairs. Refusals in the port's order: 'no_user', 'no_recipient', 'insufficient'.
 */
const createHold = `${MOVEMENT_KEY}${HOLDS}
useOutbox(8, 10)
local ready = keyAndTxReady(KEYS[11], 11, KEYS[1])
if ready ~= 'ok' then return ready end
if redis.call('EXISTS', KEYS[6]) == 0 then return 'no_user' end
if redis.call('EXISTS', KEYS[7]) == 0 then return 'no_recipient' end
local due, freed = expiredHolds(KEYS[4], ARGV[8], ARGV[1], ARGV[6], ARGV[7])
local available = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if available + freed < tonumber(ARGV[2]) then return 'insufficient' end
releaseHolds(due, ARGV[8], KEYS[2], KEYS[4], KEYS[5], ARGV[1])
redis.call('HINCRBY', KEYS[2], ARGV[1], '-' .. ARGV[2])
redis.call('HINCRBY', KEYS[2], 'held:' .. ARGV[1], ARGV[2])
redis.call('HSET', KEYS[1], unpack(ARGV, 17))
holdChanged(KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[3], 0, ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[4])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[4])
record(KEYS[11], 11, ARGV[9])
return 'ok'
`;

/**
 * KEYS: hold, payer balances, payee balances, tx, payer history, payee history, live,
 * expiries, outbox ×3, [idem] (without a payee, the payer's balances and history stand in
 * for the payee's and are not credited). ARGV: now, captured amount, currency, tx JSON,
 * member, tx id, payee id ('' for none), outcome, payer id, tx status, event seed,
 * [token, [the fast path's claim tail]]. The caller took the keys from the capture's
 * transaction, not from a read: the hold's payer, payee and currency must be the ones it
 * names ('not_its_hold', a caller's bug). Refusals in the port's order, after the key
 * and 'exists' (this very capture already ran): 'hold_missing', 'expired',
 * 'state:<status>', 'too_much', 'overflow'. Answers the captured hold (HGETALL).
 */
const captureHold = `${MOVEMENT_KEY}${HOLDS}
useOutbox(9, 11)
local ready = keyAndTxReady(KEYS[12], 12, KEYS[4])
if ready ~= 'ok' then return ready end
local h = redis.call('HMGET', KEYS[1], 'status', 'expiresAt', 'amount', 'userId', 'id', 'toUserId', 'currency')
if not h[1] then return 'hold_missing' end
if h[4] ~= ARGV[9] or (h[6] or '') ~= ARGV[7] or h[7] ~= ARGV[3] then return 'not_its_hold' end
local refusal = holdRefusal(h[1], h[2], ARGV[1])
if refusal then return refusal end
local captured, amount = tonumber(ARGV[2]), tonumber(h[3])
if captured > amount then return 'too_much' end
local payee = ARGV[7] ~= ''
if payee and tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0') > MAX - captured then return 'overflow' end
if tonumber(redis.call('HGET', KEYS[2], ARGV[3]) or '0') > MAX - (amount - captured) then return 'overflow' end
-- Both below 2^53: %d prints the exact integer (tostring would print 1e+15).
unhold(KEYS[2], ARGV[3], h[3], string.format('%d', amount - captured))
if payee then
  redis.call('HINCRBY', KEYS[3], ARGV[3], ARGV[2])
  redis.call('ZADD', KEYS[6], 0, ARGV[5])
end
redis.call('HSET', KEYS[1], 'status', 'captured', 'capturedAmount', ARGV[2], 'transactionId', ARGV[6], 'updatedAt', ARGV[1])
holdChanged(KEYS[1], ARGV[1])
txChanged(KEYS[4], ARGV[4], 1, ARGV[10], ARGV[1])
redis.call('ZADD', KEYS[5], 0, ARGV[5])
unlist(KEYS[7], KEYS[8], h[5])
record(KEYS[12], 12, ARGV[8])
return redis.call('HGETALL', KEYS[1])
`;

/**
 * KEYS: hold, payer balances, live, expiries, outbox ×3, [idem]. ARGV: now, currency,
 * outcome, payer id as read, event seed, [token]. Refusals as for a capture, up to the state.
 */
const voidHold = `${HOLDS}
useOutbox(5, 5)
if not held(KEYS[8], ARGV[6]) then return 'not_held' end
local h = redis.call('HMGET', KEYS[1], 'status', 'expiresAt', 'amount', 'userId', 'id')
if not h[1] then return 'hold_missing' end
if h[4] ~= ARGV[4] then return 'conflict' end
local refusal = holdRefusal(h[1], h[2], ARGV[1])
if refusal then return refusal end
unhold(KEYS[2], ARGV[2], h[3], h[3])
redis.call('HSET', KEYS[1], 'status', 'voided', 'updatedAt', ARGV[1])
holdChanged(KEYS[1], ARGV[1])
unlist(KEYS[3], KEYS[4], h[5])
finish(KEYS[8], ARGV[3])
return 'ok'
`;

/**
 * KEYS: expiries, outbox ×3, then per hold: hold, payer balances, payer live set. ARGV:
 * now, event seed, then the hold ids in the same order. Each hold is checked again here (a movement may have
 * released it meanwhile); an id whose hold is gone or no longer `held` only leaves the
 * expiry set. Answers how many it released.
 */
const releaseExpiredHolds = `${HOLDS}
useOutbox(2, 2)
local released = 0
for i = 5, #KEYS, 3 do
  local id = ARGV[(i - 5) / 3 + 3]
  local h = redis.call('HMGET', KEYS[i], 'status', 'expiresAt', 'amount', 'currency')
  if h[1] == 'held' then
    if h[2] <= ARGV[1] then
      expire(KEYS[i], KEYS[i + 1], KEYS[i + 2], KEYS[1], id, h[4], h[3], h[2])
      released = released + 1
    end
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return released
`;

/**
 * KEYS: balances, live. ARGV: now, nowMs, hold key prefix. Reads only, in one step: the
 * balances hash (HGETALL's flat list) and, flat, currency and amount of every live
 * hold past its expiry (the reader adds them back to available). The hold keys come
 * from the live set, as in HOLDS: one slot, thanks to the prefix's hash tag.
 */
const readBalances = `
local due = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])) do
  local h = redis.call('HMGET', ARGV[3] .. id, 'status', 'currency', 'amount', 'expiresAt')
  if h[1] == 'held' and h[4] <= ARGV[1] then
    due[#due + 1] = h[2]
    due[#due + 1] = h[3]
  end
end
return {redis.call('HGETALL', KEYS[1]), due}
`;

export const HOLD_SOURCES = { createHold, captureHold, voidHold, releaseExpiredHolds, readBalances } as const;
