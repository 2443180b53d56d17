// The Lua scripts of presence on Redis (redis-presence.ts); the keys they touch are in
// presence-layout.ts. Each transition is one script, so two processes never both publish it. Times
// are Redis TIME in ms: the processes' clocks never matter.
//
//   devices of a user   sorted set: `${deviceId}#${processId}` → expiry. Each process refreshes
//                       its own entries every third of the TTL; a dead process's expire.
//   online              sorted set: userId → the latest expiry among the user's devices.
//   pending             sorted set: userId → when the grace ends (the last device went).
//   offline of a user   set for a while once OFFLINE has been published for the user, so the
//                       process whose device left knows the going-offline was settled.
//   seq                 the order of the changes published (subscribers drop older ones).
//                       It never falls below Redis TIME in µs, so it survives a data loss.
//
// Redis may lose all of this (a restart without persistence). The processes write back the devices
// they hold with their next refresh; a user whose last device left is taken OFFLINE by the process
// that saw it leave, even when nothing in Redis remembers the user any more.
import { singleNodeLayout } from './presence-layout.ts';

/** The single-node key names. */
export const presenceKeys = {
  devices: singleNodeLayout.devices,
  offline: singleNodeLayout.offline,
  ...singleNodeLayout.shards[0]!,
  sweepLock: singleNodeLayout.sweepLock,
};

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function nextSeq(key)
  -- Never below the time in microseconds: the order survives Redis losing its data.
  local seq = redis.call('INCR', key)
  local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
  if seq < us then
    seq = us
    redis.call('SET', key, string.format('%d', seq))
  end
  return seq
end
`;

/**
 * Devices of this process are (still) connected: KEYS online, pending, seq, then each device's
 * devices key, then each device's offline key; ARGV ttlMs, then each device's member and userId.
 * Returns, per device, the seq of an ONLINE to publish, or 0. One call refreshes a whole batch: a
 * process holds tens of thousands.
 */
export const TOUCH = `${NOW}
local ttl = tonumber(ARGV[1])
local expiry = now + ttl
local count = (#KEYS - 3) / 2
local seqs = {}
for i = 1, count do
  local member = ARGV[(i - 1) * 2 + 2]
  local userId = ARGV[(i - 1) * 2 + 3]
  redis.call('ZADD', KEYS[3 + i], expiry, member)
  redis.call('PEXPIRE', KEYS[3 + i], ttl + 60000)
  local added = redis.call('ZADD', KEYS[1], 'GT', expiry, userId)
  local pending = redis.call('ZREM', KEYS[2], userId)
  if added == 1 and pending == 0 then
    redis.call('DEL', KEYS[3 + count + i])
    seqs[#seqs + 1] = nextSeq(KEYS[3])
  else
    seqs[#seqs + 1] = 0
  end
end
return seqs`;

/**
 * A device of this process left: KEYS devices, online, pending, offline; ARGV member, userId,
 * graceMs. Returns 1 when it was the user's last live device (the grace has started), else 0.
 * When nothing says where the user stands (not online, no grace running, no OFFLINE published:
 * Redis lost its data), the grace starts too: better an OFFLINE said twice than never.
 */
export const LEAVE = `${NOW}
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #top > 0 then
  redis.call('ZADD', KEYS[2], 'XX', top[2], ARGV[2])
  return 0
end
local wasOnline = redis.call('ZREM', KEYS[2], ARGV[2]) == 1
if not wasOnline and (redis.call('ZSCORE', KEYS[3], ARGV[2]) or redis.call('EXISTS', KEYS[4]) == 1) then return 0 end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[2])
return 1`;

/**
 * Sweeper: the user's latest expiry has passed. KEYS devices, online, pending; ARGV userId, graceMs.
 * Returns 1 when the user had no live device left (the grace has started from that expiry).
 */
export const EXPIRE = `${NOW}
local latest = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not latest then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #top > 0 then
  redis.call('ZADD', KEYS[2], top[2], ARGV[1])
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], tonumber(latest) + tonumber(ARGV[2]), ARGV[1])
return 1`;

/**
 * The grace of a user may be over: KEYS pending, seq, offline, online; ARGV userId, owned,
 * offlineMarkMs. Returns the seq of the OFFLINE to publish; 0 when there is nothing to publish (a
 * device came back, or someone settled it); -ms when the grace is not over yet. `owned` (1): the
 * caller saw the user's last device leave, so with no grace entry, no live device and no OFFLINE
 * published, the entry was lost with Redis's data and the caller settles it.
 */
export const SETTLE = `${NOW}
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if due then
  local left = tonumber(due) - now
  if left > 0 then return -math.ceil(left) end
  redis.call('ZREM', KEYS[1], ARGV[1])
elseif ARGV[2] ~= '1' or redis.call('ZSCORE', KEYS[4], ARGV[1]) or redis.call('EXISTS', KEYS[3]) == 1 then
  return 0
end
redis.call('SET', KEYS[3], '1', 'PX', tonumber(ARGV[3]))
return nextSeq(KEYS[2])`;

/** Members of a sorted set whose score has passed: KEYS set; ARGV limit. */
export const DUE = `${NOW}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))`;
