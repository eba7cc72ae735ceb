// The Lua for refunds (see redis-scripts.ts for the rules every script follows). The
// original's `refundedAmount` lives in its JSON, which the caller re-encodes (numbers
// stay exact in TypeScript): each script applies it as a compare-and-set on the
// stored JSON, so racing partial refunds run one after the other and the later one
// re-reads ('conflict') and decides again from the new refundedAmount.
import { HOLDS } from './redis-hold-scripts';

/**
 * KEYS: refund tx, original tx, payer balances (refund userId), other balances
 * (toUserId, else the payer's again), payer history, other history, pending refunds,
 * payer live holds, hold expiries, outbox ×3, [idem]. ARGV: original as read, original
 * updated, mode, currency, amount, refund JSON, member, pending ('1'/'0'), outcome, now,
 * nowMs, hold key prefix, refund id, refund status, event seed, [token].
 * mode: 'credit' (a withdrawal's owner gets it back), 'debit' (a deposit's owner gives
 * it back), 'move' (a transfer's payee gives it back to the sender). A debit first
 * releases the payer's expired holds. Refusals: 'missing', 'conflict' (read again),
 * 'insufficient', 'overflow'. A pending refund is linked to the claim (like a deposit);
 * a completed one records its outcome.
 */
const refund = `${HOLDS}
useOutbox(10, 15)
if not held(KEYS[13], ARGV[16]) then return 'not_held' end
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
local original = redis.call('GET', KEYS[2])
if not original then return 'missing' end
if original ~= ARGV[1] then return 'conflict' end
local mode, currency, amount = ARGV[3], ARGV[4], tonumber(ARGV[5])
local due = {}
if mode == 'credit' then
  if tonumber(redis.call('HGET', KEYS[3], currency) or '0') > MAX - amount then return 'overflow' end
else
  local freed
  due, freed = expiredHolds(KEYS[8], ARGV[12], currency, ARGV[10], ARGV[11])
  if tonumber(redis.call('HGET', KEYS[3], currency) or '0') + freed < amount then return 'insufficient' end
  if mode == 'move' and tonumber(redis.call('HGET', KEYS[4], currency) or '0') > MAX - amount then return 'overflow' end
end
if mode == 'credit' then
  redis.call('HINCRBY', KEYS[3], currency, ARGV[5])
else
  releaseHolds(due, ARGV[12], KEYS[3], KEYS[8], KEYS[9], currency)
  redis.call('HINCRBY', KEYS[3], currency, '-' .. ARGV[5])
  if mode == 'move' then redis.call('HINCRBY', KEYS[4], currency, ARGV[5]) end
end
txChanged(KEYS[1], ARGV[6], 1, ARGV[14], ARGV[10])
txChanged(KEYS[2], ARGV[2], txVersion(original) + 1, 'updated', ARGV[10])
redis.call('ZADD', KEYS[5], 0, ARGV[7])
redis.call('ZADD', KEYS[6], 0, ARGV[7])
if ARGV[8] == '1' then
  redis.call('ZADD', KEYS[7], 0, ARGV[7])
  if KEYS[13] and redis.call('EXISTS', KEYS[13]) == 1 then redis.call('HSET', KEYS[13], 'txId', ARGV[13]) end
else
  finish(KEYS[13], ARGV[9])
end
return 'ok'
`;

/**
 * Settles a pending deposit refund. KEYS: refund tx, owner balances, pending refunds,
 * original tx, outbox ×3, [idem]. ARGV: refund as read, refund settled, credit back ('1'
 * when it fails), currency, amount, member, outcome, original as read ('' when it is not
 * touched), original updated, new status, now, event seed, [token]. Compare-and-set on both JSONs ('conflict' →
 * read again). A credit back the balance cannot hold is refused ('overflow'), no effect.
 */
const settleRefund = `
useOutbox(5, 12)
if not held(KEYS[8], ARGV[13]) then return 'not_held' end
local current = redis.call('GET', KEYS[1])
if not current then return 'missing' end
if current ~= ARGV[1] then return 'conflict' end
if ARGV[8] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[8] then return 'conflict' end
if ARGV[3] == '1' then
  if tonumber(redis.call('HGET', KEYS[2], ARGV[4]) or '0') > MAX - tonumber(ARGV[5]) then return 'overflow' end
  redis.call('HINCRBY', KEYS[2], ARGV[4], ARGV[5])
end
if ARGV[8] ~= '' then txChanged(KEYS[4], ARGV[9], txVersion(ARGV[8]) + 1, 'updated', ARGV[11]) end
txChanged(KEYS[1], ARGV[2], txVersion(current) + 1, ARGV[10], ARGV[11])
redis.call('ZREM', KEYS[3], ARGV[6])
finish(KEYS[8], ARGV[7])
return 'ok'
`;

export const REFUND_SOURCES = { refund, settleRefund } as const;
