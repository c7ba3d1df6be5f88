import { DRIVER, EXPIRE, PRELUDE } from './prelude.js'

/*
 * Fixed window, as core's kernel: per rate a window start (ms) and a count; a
 * window opens at the first hit after the previous one ended and may lie in the
 * future when shaping reserved a slot in the next window. A hash per key:
 * `s<i>`, `c<i>`. Rate parameters: window, limit.
 *
 * A state is a table of {start, count} (start false: no window yet); nil is a fresh key.
 */
const KERNEL = `
local function prepare() end

local function load(i, rates)
  local fields = {}
  for i = 1, #rates do
    fields[2 * i - 1] = 's' .. i
    fields[2 * i] = 'c' .. i
  end
  local v = redis.call('HMGET', KEYS[i], unpack(fields))
  local s = {}
  local any = false
  for i = 1, #rates do
    local start = v[2 * i - 1]
    if start then
      any = true
      s[i] = {tonumber(start), tonumber(v[2 * i])}
    else
      s[i] = {false, 0}
    end
  end
  if any then return s end
  return nil
end

-- A state holds absolute times: valid at any now.
local function advance(s) return s end

local function earliest(start, count, window, limit, weight)
  if not start or now >= start + window then return now end
  local fits = count + weight <= limit
  if start > now then
    if fits then return start end
    return start + window
  end
  if fits then return now end
  return start + window
end

local function delay(s, rates, weight)
  local d = 0
  for i = 1, #rates do
    local r = rates[i]
    local start, count = false, 0
    if s then start, count = s[i][1], s[i][2] end
    local x = earliest(start, count, r[1], r[2], weight) - now
    if x > d then d = x end
  end
  return d
end

local function charge(s, rates, at_delay, weight)
  local at = now + at_delay
  local n = {}
  for i = 1, #rates do
    local start = s and s[i][1]
    if not start or at >= start + rates[i][1] then
      n[i] = {at, weight}
    else
      n[i] = {start, s[i][2] + weight}
    end
  end
  return n
end

local function refund(s, rates, weight)
  local n = {}
  local live = false
  for i = 1, #rates do
    local start, count = s[i][1], s[i][2]
    if start and now < start + rates[i][1] then
      count = count - weight
      if count < 0 then count = 0 end
      live = true
    end
    n[i] = {start, count}
  end
  if live then return n end
  return nil
end

local function inspect(s, rates, out, o)
  for i = 1, #rates do
    local r = rates[i]
    local start = s and s[i][1]
    if not start or now >= start + r[1] then
      out[o + 1] = r[2]
      out[o + 2] = 0
    else
      local remaining = 0
      if start <= now then remaining = r[2] - s[i][2] end
      if remaining > 0 then remaining = floor(remaining) else remaining = 0 end
      out[o + 1] = remaining
      out[o + 2] = start + r[1] - now
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
      if s[i][1] then
        local x = s[i][1] + rates[i][1] - now
        if x > ttl then ttl = x end
      end
    end
  end
  if ttl <= 0 then
    redis.call('DEL', key)
    return
  end
  local args = {}
  for i = 1, #rates do
    if s[i][1] then
      args[#args + 1] = 's' .. i
      args[#args + 1] = s[i][1]
      args[#args + 1] = 'c' .. i
      args[#args + 1] = s[i][2]
    end
  end
  redis.call('HSET', key, unpack(args))
  expire(key, ttl)
end
`

/** The script for `fixed-window`. */
export const FIXED_WINDOW_SCRIPT = `local PARAMS = 2\n${PRELUDE}${EXPIRE}${KERNEL}${DRIVER}`
/** SHA1 of {@link FIXED_WINDOW_SCRIPT}, as `SCRIPT LOAD` returns it (a test keeps them in step). */
export const FIXED_WINDOW_SHA = 'ffa06c2d2109853e5fc46745c118a5f89eef5218'
