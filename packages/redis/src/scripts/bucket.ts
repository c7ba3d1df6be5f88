import { DRIVER, PRELUDE } from './prelude.js'

/*
 * GCRA, token bucket and leaky bucket. The three decide identically (core
 * proves it), so Redis keeps one representation for all of them: the leaky
 * bucket's. A string per key, `struct.pack('<d...')` of n + 1 doubles: the
 * ms of the last update, then each rate's backlog (GCRA's `TAT - t`, the token
 * bucket's `tau - tokens`) in the rate's scaled units; one GET and one SET per
 * key (one MGET reads all keys of a call), where a hash needs HMGET, HSET
 * and PEXPIREAT. Doubles hold these integers exactly: backlogs stay below
 * `tau` plus the reserved delay, far from 2^53, where absolute scaled times
 * would not. Rate parameters: u, T, tau.
 * The expiry is PX ttl + 1: Redis may count it from the start of the script,
 * up to 1 ms before the TIME the script read, and a key must never expire early.
 *
 * A state is a table of backlogs drained to `now`; nil is a fresh key.
 */
const KERNEL = `
local values
local function prepare()
  values = redis.call('MGET', unpack(KEYS))
end

local function load(i, rates)
  local v = values[i]
  local n = #rates
  -- A state written under other rules (another rate count) is treated as fresh.
  if not v or #v ~= 8 * (n + 1) then return nil end
  if n == 1 then
    local at, level = unpack_doubles('<dd', v)
    local dt = now - at
    if dt < 0 then dt = 0 end
    level = level - dt * rates[1][1]
    if level < 0 then level = 0 end
    return {level}
  end
  local f = {unpack_doubles(doubles(n + 1), v)}
  local dt = now - f[1]
  if dt < 0 then dt = 0 end
  local s = {}
  for i = 1, n do
    local level = f[i + 1] - dt * rates[i][1]
    if level < 0 then level = 0 end
    s[i] = level
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

local function inspect(s, rates, out, o)
  for i = 1, #rates do
    local r = rates[i]
    local backlog = s and s[i] or 0
    local remaining = floor_div(r[3] - backlog, r[2])
    if remaining < 0 then remaining = 0 end
    out[o + 1] = remaining
    out[o + 2] = ceil_div(backlog, r[1])
    o = o + 2
  end
  return o
end

local function save(key, s, rates)
  local n = #rates
  local ttl = 0
  if s then
    for i = 1, n do
      local x = ceil_div(s[i], rates[i][1])
      if x > ttl then ttl = x end
    end
  end
  if ttl <= 0 then
    redis.call('DEL', key)
    return
  end
  local v
  if n == 1 then v = pack('<dd', now, s[1]) else v = pack(doubles(n + 1), now, unpack(s, 1, n)) end
  redis.call('SET', key, v, 'PX', ttl + pad + 1)
end
`

/** The script for `gcra`, `token-bucket` and `leaky-bucket`. */
export const BUCKET_SCRIPT = `local PARAMS = 3\n${PRELUDE}${KERNEL}${DRIVER}`
/** SHA1 of {@link BUCKET_SCRIPT}, as `SCRIPT LOAD` returns it (a test keeps them in step). */
export const BUCKET_SHA = '95012bb85500a3d693694fe8398d1395c27c4966'
