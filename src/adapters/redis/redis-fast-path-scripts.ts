// The fast path's Lua (Ledger.claimsWithMovement, claimsWithHold, claimsWithCapture; the rules are in
// redis-scripts.ts): the scripts that may claim a new key inside their own step check
// and record it with these. They use COMMON's held and finish (redis-scripts.ts).

/**
 * For withdraw, transfer, createHold and captureHold: `t` is the token's ARGV index;
 * ARGV[t + 1] is the mode ('claim' for the fast path; absent or '' otherwise), then
 * fingerprint, leaseUntil, expiresAt, expiresAtMs. `txKey` is the key of what the script
 * creates (the transaction — a capture's too — or the hold).
 */
export const MOVEMENT_KEY = `
local function claiming(key, t)
  return key ~= nil and ARGV[t + 1] == 'claim'
end
-- Checked before any effect, in this order: the key ('not_held'), then txKey ('exists':
-- this very transaction or hold was already created). The fast path wants no record at all
-- (done, open, in flight, or past its expiresAt but not yet evicted) and asks about
-- both keys in one EXISTS; otherwise the claim must be held. 'ok' when both pass.
local function keyAndTxReady(key, t, txKey)
  if claiming(key, t) then
    if redis.call('EXISTS', key, txKey) == 0 then return 'ok' end
    if redis.call('EXISTS', key) == 1 then return 'not_held' end
    return 'exists'
  end
  if not held(key, ARGV[t]) then return 'not_held' end
  if redis.call('EXISTS', txKey) == 1 then return 'exists' end
  return 'ok'
end
-- The outcome: on the fast path the record is created here, exactly as claimIdempotency
-- lays it out (fp, state, token, leaseUntil, expiresAt), already done with its outcome.
local function record(key, t, outcome)
  if claiming(key, t) then
    redis.call('HSET', key, 'fp', ARGV[t + 2], 'state', 'done', 'token', ARGV[t], 'leaseUntil', ARGV[t + 3],
      'expiresAt', ARGV[t + 4], 'outcome', outcome)
    redis.call('PEXPIREAT', key, ARGV[t + 5])
  else
    finish(key, outcome)
  end
end
`;
