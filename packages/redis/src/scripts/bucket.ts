import { DRIVER, PRELUDE } from './prelude.js'

/*
 * GCRA, token bucket and leaky bucket. The three decide identically (core
 * proves it), so Redis keeps one representation for all of them: the leaky
 * bucket's. A string per key, `struct.pack('<d...')` of n + 2 doubles: the ms
 * of the last update, a lower bound of the key's expiry (Redis ms), then each
 * rate's backlog (GCRA's `TAT - t`, the token bucket's `tau - tokens`) in the
 * rate's scaled units. A value of n + 1 doubles (no expiry) is from an earlier
 * version and still read. One MGET reads every key of a call and one write per
 * key stores it, where a hash needs HMGET, HSET and PEXPIREAT. Doubles hold
 * these integers exactly: backlogs stay below `tau` plus the reserved delay,
 * far from 2^53, where absolute scaled times would not. Rate parameters: u, T,
 * tau. An expiry set is PX ttl + slack + 1: Redis may count it from the start
 * of the script, up to 1 ms before the TIME the script read, and a key must
 * never expire early.
 *
 * A state is a table of backlogs drained to `now`; nil is a fresh key.
 */
const KERNEL = `
local values
-- Per key index: a lower bound of the key's expiry on Redis's clock, from its value (nil: unknown).
local expiry = {}
local function prepare()
  values = redis.call('MGET', unpack(KEYS))
end

local function load(i, rates)
  local v = values[i]
  if not v then return nil end
  local n = #rates
  local size = #v
  if n == 1 and size == 24 then
    local at, e, level = unpack_doubles('<ddd', v)
    expiry[i] = e
    local dt = now - at
    if dt < 0 then dt = 0 end
    level = level - dt * rates[1][1]
    if level < 0 then level = 0 end
    return {level}
  end
  local f, first
  if size == 8 * (n + 2) then
    f = {unpack_doubles(doubles(n + 2), v)}
    expiry[i] = f[2]
    first = 3
  elseif size == 8 * (n + 1) then
    -- Written before values kept their expiry: the next write sets one.
    f = {unpack_doubles(doubles(n + 1), v)}
    first = 2
  else
    -- Written under other rules (another rate count): treated as fresh.
    return nil
  end
  local dt = now - f[1]
  if dt < 0 then dt = 0 end
  local s = {}
  for r = 1, n do
    local level = f[first + r - 1] - dt * rates[r][1]
    if level < 0 then level = 0 end
    s[r] = level
  end
  return s
end

local function advance(s, rates, from)
  local dt = now - from
  if not s or dt <= 0 then return s end
  local n = {}
  for i = 1, #rates do
    local level = s[i] - dt * rates[i][1]
    if level < 0 then level = 0 end
    n[i] = level
  end
  return n
end

local function delay(s, rates, weight)
  local d = 0
  for i = 1, #rates do
    local r = rates[i]
    local x = ceil_div((s and s[i] or 0) + weight * r[2] - r[3], r[1])
    if x > d then d = x end
  end
  return d
end

-- In place: a state belongs to one key, and the driver keeps only its latest version.
local function charge(s, rates, at, weight)
  local n = s or {}
  for i = 1, #rates do
    local r = rates[i]
    local level = s and s[i] or 0
    local slot = at * r[1]
    if slot > level then level = slot end
    n[i] = level + weight * r[2]
  end
  return n
end

local function refund(s, rates, weight)
  local n = {}
  local live = false
  for i = 1, #rates do
    local level = s[i] - weight * rates[i][2]
    if level > 0 then live = true else level = 0 end
    n[i] = level
  end
  if live then return n end
  return nil
end

-- Each rate's backlog: the client turns it into remaining and reset (Redis does only what must be atomic).
local function inspect(s, rates, out, o)
  for i = 1, #rates do out[o + i] = s and s[i] or 0 end
  return o + #rates
end

local function save(i, s, rates)
  local n = #rates
  local ttl = 0
  if s then
    for r = 1, n do
      local x = ceil_div(s[r], rates[r][1])
      if x > ttl then ttl = x end
    end
  end
  if n == 1 then put(i, ttl, expiry[i], s and s[1]) else put(i, ttl, expiry[i], nil, s, n) end
end
`

/*
 * Writing a bucket value, shared by the simple path and the kernel's save.
 */
const PUT = `
-- Writes KEYS[i]: its value is the ms of the update, a lower bound of the key's expiry, then the
-- backlog (level, for one rate) or the n backlogs of s; deleted when its drain time ttl (ms) is 0.
-- The expiry must cover the drain time; a key whose expiry e already does keeps it, and its value
-- is rewritten in place (SETRANGE of a value of the same length keeps the TTL), which costs Redis
-- about half a SET with PX. An expiry set anew covers an eighth more, at least 10 s, so a busy key
-- sets one now and then instead of at every write, and a client that comes back within 10 s finds
-- its key still there: with 1 s, a client every 0.5 to 1 s found it gone every other time, and
-- each time Redis had deleted the key and made it again (100,000 keys at 50 in flight: 0.49 SET
-- per decision and 4.4 to 7.2 µs of Redis CPU, against 0.02 to 0.07 and 3.5 to 4.7 with 10 s).
local function put(i, ttl, e, level, s, n)
  if ttl <= 0 then
    redis.call('DEL', KEYS[i])
    return
  end
  local fresh = not e or e < real + ttl + pad
  local slack = 0
  if fresh then
    slack = ceil(ttl / 8)
    if slack < 10000 then slack = 10000 end
    -- PX counts from the script's start, at most 1 ms before TIME: the expiry is at least this.
    e = real + ttl + slack + pad
  end
  local v
  if s then v = pack(doubles(n + 2), now, e, unpack(s, 1, n)) else v = pack('<ddd', now, e, level) end
  if fresh then
    redis.call('SET', KEYS[i], v, 'PX', ttl + slack + pad + 1)
  else
    -- The offset as a string: Redis formats a number argument with printf's %.17g, dearer than the write.
    redis.call('SETRANGE', KEYS[i], '0', v)
  end
end
`

/*
 * A simple call (one key, one rate, a consume per request, one clock: see the
 * prelude), decided as the driver would but before the kernel's closures and
 * the driver's tables exist, which cost a lone request about as much as its
 * GCRA: states are plain numbers, rates are read where the call put them (each
 * set of a simple call holds one rate: its count, then u, T, tau), values in the
 * common layout (24 bytes) are read inline and written through put, and a
 * request with room left skips the division. A call of one request keeps its
 * state in locals and packs its reply directly. A call that finds a value in another layout (an
 * earlier version's, or another rate count's) goes the generic way instead.
 * The differential tests keep it equal to the driver.
 */
const SIMPLE = `
if A[3] == 1 then
  local values = redis.call('MGET', unpack(KEYS))
  local plain = true
  for i = 1, #KEYS do
    local v = values[i]
    if v and #v ~= 24 then
      plain = false
      break
    end
  end
  if plain then
    local p = 5 + 4 * A[4]
    local count = A[p]
    p = p + 1
    local clock = A[p + 1]
    if clock == clock then now = clock else now = real end
    if count == 1 then
      -- One request (the only one of its turn of the event loop, as most calls at low load): the loop's
      -- decision below in locals, with no tables (a sixth of such a call's instructions).
      local w, max_delay = A[p + 2], A[p + 3]
      local r = 2 + 4 * A[p + 6]
      local u, T, tau = A[r], A[r + 1], A[r + 2]
      local v, e = values[1], nil
      local level = 0
      if v then
        local at
        at, e, level = unpack_doubles('<ddd', v)
        local dt = now - at
        if dt < 0 then dt = 0 end
        level = level - dt * u
        if level < 0 then level = 0 end
      end
      local d = level + w * T - tau
      if d > 0 then d = ceil_div(d, u) else d = 0 end
      if max_delay >= 0 and d > max_delay then
        return pack('<dddddddd', 1, real, 0, 0, d - max_delay, 0, ceil_div(level + T - tau, u), level)
      end
      local slot = d * u
      if slot > level then level = slot end
      level = level + w * T
      put(1, ceil_div(level, u), e, level)
      return pack('<dddddddd', 1, real, 1, d, 0, -1, 0, level)
    end
    -- Per key index: the backlog, the rate's u, a lower bound of its expiry, and whether to write it.
    local level_of, u_of, expiry, dirty = {}, {}, {}, {}
    local out = {1, real}
    local o = 2
    local seen = 0
    for _ = 1, count do
      local w, max_delay = A[p + 2], A[p + 3]
      local r = 2 + 4 * A[p + 6]
      local key = A[p + 7]
      p = p + 8
      local u, T, tau = A[r], A[r + 1], A[r + 2]
      local level
      if key > seen then
        seen = key
        u_of[key] = u
        local v = values[key]
        if v then
          local at, e
          at, e, level = unpack_doubles('<ddd', v)
          expiry[key] = e
          local dt = now - at
          if dt < 0 then dt = 0 end
          level = level - dt * u
          if level < 0 then level = 0 end
        else
          level = 0
        end
      else
        level = level_of[key]
      end
      local d = level + w * T - tau
      if d > 0 then d = ceil_div(d, u) else d = 0 end
      local allowed, retry, blocked, one = 1, 0, -1, 0
      if max_delay >= 0 and d > max_delay then
        allowed = 0
        retry = d - max_delay
        blocked = 0
        d = 0
        one = ceil_div(level + T - tau, u)
      else
        local slot = d * u
        if slot > level then level = slot end
        level = level + w * T
        dirty[key] = true
      end
      level_of[key] = level
      out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5], out[o + 6] = allowed, d, retry, blocked, one, level
      o = o + 6
    end
    for key = 1, seen do
      if dirty[key] then
        local level = level_of[key]
        put(key, ceil_div(level, u_of[key]), expiry[key], level)
      end
    end
    return reply(out, o)
  end
end
`

/** The script for `gcra`, `token-bucket` and `leaky-bucket`. */
export const BUCKET_SCRIPT = `local PARAMS = 3\n${PRELUDE}${PUT}${SIMPLE}${KERNEL}${DRIVER}`
/** SHA1 of {@link BUCKET_SCRIPT}, as `SCRIPT LOAD` returns it (a test keeps them in step). */
export const BUCKET_SHA = 'cef29bbbb018e9887a091af6f00af24579a618e5'
