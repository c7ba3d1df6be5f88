import { DRIVER, EXPIRE, FLOOR_DIV, PRELUDE } from './prelude.js'

/*
 * Sliding window, as core's kernel: per rate the current window's start (ms)
 * and the counts of the previous and current windows; the estimate at t is
 * prev * (W - (t - start)) / W + curr. A hash per key: `s<i>`, `p<i>`, `c<i>`.
 * Rate parameters: window, limit.
 *
 * Windows follow each other from a rate's first hit; once both counts are zero
 * (or have aged out) the rate is fresh and its next hit anchors a new sequence,
 * so a state kept past its expiry (the caller's clock may run ahead of Redis's
 * own expiry) decides like a fresh key. A state is a table of {start, prev,
 * curr} per rate; nil is a fresh key.
 */
const KERNEL = `
local function prepare() end

local function roll(s, i, r)
  if not s then return now, 0, 0 end
  local start, prev, curr = s[i][1], s[i][2], s[i][3]
  if prev == 0 and curr == 0 then return now, 0, 0 end
  if now < start + r[1] then return start, prev, curr end
  if curr > 0 and floor((now - start) / r[1]) == 1 then return start + r[1], curr, 0 end
  return now, 0, 0
end

local function load(i, rates)
  local fields = {}
  for i = 1, #rates do
    fields[3 * i - 2] = 's' .. i
    fields[3 * i - 1] = 'p' .. i
    fields[3 * i] = 'c' .. i
  end
  local v = redis.call('HMGET', KEYS[i], unpack(fields))
  if not v[1] then return nil end
  local s = {}
  for i = 1, #rates do s[i] = {tonumber(v[3 * i - 2]), tonumber(v[3 * i - 1]), tonumber(v[3 * i])} end
  return s
end

-- A state holds absolute times: valid at any now.
local function advance(s) return s end

local function earliest(start, prev, curr, r, weight)
  local W = r[1]
  if curr + weight <= r[2] then
    if prev == 0 then return now end
    local e = W - floor_div((r[2] - curr - weight) * W, prev)
    if start + e <= now then return now end
    if e < W then return start + e end
  end
  if curr == 0 then return start + W end
  local e = W - floor_div((r[2] - weight) * W, curr)
  if e < W then
    if e > 0 then return start + W + e end
    return start + W
  end
  return start + 2 * W
end

local function delay(s, rates, weight)
  local d = 0
  for i = 1, #rates do
    local start, prev, curr = roll(s, i, rates[i])
    local x = earliest(start, prev, curr, rates[i], weight) - now
    if x > d then d = x end
  end
  return d
end

local function charge(s, rates, _, weight)
  local n = {}
  for i = 1, #rates do
    local start, prev, curr = roll(s, i, rates[i])
    n[i] = {start, prev, curr + weight}
  end
  return n
end

local function refund(s, rates, weight)
  local n = {}
  local live = false
  for i = 1, #rates do
    local start, prev, curr = roll(s, i, rates[i])
    local back = curr - weight
    if back < 0 then back = 0 end
    if prev > 0 or back > 0 then live = true end
    n[i] = {start, prev, back}
  end
  if live then return n end
  return nil
end

local function inspect(s, rates, out, o)
  for i = 1, #rates do
    local r = rates[i]
    local start, prev, curr = roll(s, i, r)
    if prev == 0 and curr == 0 then
      out[o + 1] = r[2]
      out[o + 2] = 0
    else
      local W = r[1]
      local remaining = floor_div(r[2] * W - prev * (W - (now - start)) - curr * W, W)
      if remaining < 0 then remaining = 0 end
      out[o + 1] = remaining
      out[o + 2] = start + W - now
    end
    o = o + 2
  end
  return o
end

local function save(i, s, rates)
  local key = KEYS[i]
  local ttl = 0
  if s then
    for i = 1, #rates do
      local start, prev, curr = roll(s, i, rates[i])
      local x = 0
      if curr > 0 then x = start + 2 * rates[i][1] - now elseif prev > 0 then x = start + rates[i][1] - now end
      if x > ttl then ttl = x end
    end
  end
  if ttl <= 0 then
    redis.call('DEL', key)
    return
  end
  local args = {}
  for i = 1, #rates do
    args[#args + 1] = 's' .. i
    args[#args + 1] = s[i][1]
    args[#args + 1] = 'p' .. i
    args[#args + 1] = s[i][2]
    args[#args + 1] = 'c' .. i
    args[#args + 1] = s[i][3]
  end
  redis.call('HSET', key, unpack(args))
  expire(key, ttl)
end
`

/** The script for `sliding-window`. */
export const SLIDING_WINDOW_SCRIPT = `local PARAMS = 2\n${PRELUDE}${FLOOR_DIV}${EXPIRE}${KERNEL}${DRIVER}`
/** SHA1 of {@link SLIDING_WINDOW_SCRIPT}, as `SCRIPT LOAD` returns it (a test keeps them in step). */
export const SLIDING_WINDOW_SHA = '4928f3b4d6028745f9875d8018213ba9a99d7b80'
