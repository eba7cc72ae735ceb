// The transactional outbox in Lua (see redis-scripts.ts for the rules every script
// follows). Every script that changes a transaction or hold counts the change in the
// resource's version and, with events on, appends its event in the same script: an
// INCR sequence scores the event id in the `outbox` sorted set (commit order), and the
// `outbox-events` hash keeps the event's JSON. Such a script takes the three outbox keys
// right after its own KEYS and the event seed right after its own ARGV (before the
// idempotency key and token); the seed is '' when events are off: no outbox write at all.
//
// Nothing is decoded and re-encoded: cjson would print numbers past 14 significant
// digits as 9.007199254741e+15. A transaction's event carries the JSON the caller built
// (as the ledger returns it), spliced in as is; a hold's is assembled from its hash,
// strings through cjson.encode, amounts and metadata spliced in as stored.

/** Lua helpers shared by every script (in COMMON). */
export const EVENTS = `
local outbox
-- k: KEYS index of the outbox sequence (then set, events); a: ARGV index of the seed.
local function useOutbox(k, a)
  outbox = {seqKey = KEYS[k], setKey = KEYS[k + 1], eventsKey = KEYS[k + 2], seed = ARGV[a], n = 0}
end
-- The n-th event id of this call: a UUID (version 5 layout) from SHA-1 of the caller's random seed and n.
local function eventId()
  outbox.n = outbox.n + 1
  local h = redis.sha1hex(outbox.seed .. ':' .. outbox.n)
  local v = tonumber(string.sub(h, 17, 17), 16) % 4 + 1
  return string.sub(h, 1, 8) .. '-' .. string.sub(h, 9, 12) .. '-5' .. string.sub(h, 14, 16) .. '-'
    .. string.sub('89ab', v, v) .. string.sub(h, 18, 20) .. '-' .. string.sub(h, 21, 32)
end
-- Appends one event; resource is the JSON of the transaction or hold, spliced in as is.
-- (INCR's and HINCRBY's integers stay far below 10^14, where Lua prints numbers exactly.)
local function announce(type, at, version, kind, resource)
  if outbox.seed == '' then return end
  local id = eventId()
  redis.call('ZADD', outbox.setKey, redis.call('INCR', outbox.seqKey), id)
  redis.call('HSET', outbox.eventsKey, id, '{"id":"' .. id .. '","type":"' .. type .. '","occurredAt":"' .. at
    .. '","version":' .. version .. ',"resource":{"kind":"' .. kind .. '","' .. kind .. '":' .. resource .. '}}')
end

-- A transaction is stored as its JSON with its version spliced in as the last field
-- (readers drop it; JSON stored before versions has none: 0).
local function txVersion(stored)
  return tonumber(string.match(stored, ',"version":(%d+)}$') or '0')
end
local function storeTx(key, json, version)
  redis.call('SET', key, string.sub(json, 1, -2) .. ',"version":' .. version .. '}')
end
-- Stores change number version of a transaction and announces it: event is its new
-- status, or 'updated' for a change that leaves the status alone.
local function txChanged(key, json, version, event, at)
  storeTx(key, json, version)
  announce('transaction.' .. event, at, version, 'transaction', json)
end

-- BEGIN mirror of parseHold in redis-hold.ts: the hold as the ledger returns it.
local function holdJson(key)
  local fields = {'id', 'userId', 'toUserId', 'amount', 'currency', 'capturedAmount', 'status', 'expiresAt',
    'transactionId', 'metadata', 'createdAt', 'updatedAt'}
  local raw = {amount = true, capturedAmount = true, metadata = true}
  local values, parts = redis.call('HMGET', key, unpack(fields)), {}
  for i, name in ipairs(fields) do
    local v = values[i]
    if v then parts[#parts + 1] = '"' .. name .. '":' .. (raw[name] and v or cjson.encode(v)) end
  end
  return '{' .. table.concat(parts, ',') .. '}'
end
-- END mirror of parseHold.
-- Counts a change of the hold (its hash's version field) and announces the state it left.
local function holdChanged(key, at)
  local version = redis.call('HINCRBY', key, 'version', 1)
  if outbox.seed == '' then return end
  local status = redis.call('HGET', key, 'status')
  announce(status == 'held' and 'hold.created' or 'hold.' .. status, at, version, 'hold', holdJson(key))
end
`;

/**
 * KEYS: outbox, events, leases. ARGV: limit, now, leaseUntil, token. The oldest events
 * whose lease is absent or ran out (leaseUntil <= now; ISO strings compare in time
 * order), each leased to the token. Scans past live leases in chunks: at most the
 * batches relays hold at once.
 */
const claimEvents = `
local limit, claimed, start = tonumber(ARGV[1]), {}, 0
while #claimed < limit do
  local ids = redis.call('ZRANGE', KEYS[1], start, start + 99)
  if #ids == 0 then break end
  local leases = redis.call('HMGET', KEYS[3], unpack(ids))
  for i, id in ipairs(ids) do
    local lease = leases[i]
    if not lease or string.match(lease, '^(%S+)') <= ARGV[2] then
      local event = redis.call('HGET', KEYS[2], id)
      if event then
        redis.call('HSET', KEYS[3], id, ARGV[3] .. ' ' .. ARGV[4])
        claimed[#claimed + 1] = event
        if #claimed == limit then break end
      end
    end
  end
  start = start + #ids
end
return claimed
`;

/** KEYS: outbox, events, leases. ARGV: token, then the event ids. Removes only those still leased to the token. */
const ackEvents = `
for i = 2, #ARGV do
  local lease = redis.call('HGET', KEYS[3], ARGV[i])
  if lease and string.match(lease, '^%S+ (.*)$') == ARGV[1] then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    redis.call('HDEL', KEYS[3], ARGV[i])
  end
end
return 'ok'
`;

/** KEYS: outbox, events. Reads only: how many events wait, and the oldest one's occurredAt ('' when none). */
const outboxBacklog = `
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
local event = oldest and redis.call('HGET', KEYS[2], oldest)
return {redis.call('ZCARD', KEYS[1]), event and cjson.decode(event).occurredAt or ''}
`;

export const OUTBOX_SOURCES = { claimEvents, ackEvents, outboxBacklog } as const;
