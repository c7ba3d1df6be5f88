/*
 * Lua shared by every script. Redis runs Lua 5.1, whose numbers are doubles:
 * the scripts never hold absolute scaled times (`ms * u` can pass 2^53); they
 * keep times in ms and backlogs in the rate's scaled units, which stay small.
 * Numbers handed to `redis.call` are formatted by Redis with full precision;
 * the scripts never concatenate numbers into strings (Lua would print 14 digits).
 *
 * One call decides a batch of requests, in order, each atomically (the script
 * as a whole is atomic): a store sends every request made in the same turn of
 * the event loop in one EVALSHA. KEYS are every request's keys, in order.
 *
 * ARGV[1] holds every number of the call as little-endian doubles, read with
 * one `struct.unpack` (Redis parses one argument and Lua converts none, where
 * decimal arguments cost a `tonumber` each): 1 deadline in Redis ms or NaN
 * (a command resent or dequeued after the client gave up must not charge),
 * 2 extra expiry ms (caller clock only), 3 number of rate sets; per rate set
 * (the rates of one policy, sent once per call however many requests use it)
 * the number of rates and each rate's parameters; then the number of
 * requests, and per request: op (0 consume, 1 peek, 2 refund), caller clock
 * ms or NaN (use TIME), weight, maxDelay ms (-1: unbounded), minDelay ms (the
 * slot must be at least this late: the second call on a Cluster), number of
 * keys, then per key its rate set's index (from 1).
 */
export const PRELUDE = `
-- Redis before 5 replicates scripts verbatim unless asked for effects, and TIME is not deterministic.
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local real = t[1] * 1000 + math.floor(t[2] / 1000)
local A = {struct.unpack('<' .. string.rep('d', #ARGV[1] / 8), ARGV[1])}
-- NaN (no deadline) is the one value unequal to itself.
if A[1] == A[1] and real > A[1] then return {-1, real} end
local pad = A[2]
local now = real

-- Whole-number division, exact for integers. An infinite dividend (a weight that overflows a
-- product) is returned as is: the adjustment loops below would never end on it.
local function ceil_div(a, b)
  if a <= 0 then return 0 end
  if a == math.huge then return a end
  local q = math.ceil(a / b)
  if a ~= math.floor(a) or b ~= math.floor(b) then return q end
  while q * b < a do q = q + 1 end
  while q > 0 and (q - 1) * b >= a do q = q - 1 end
  return q
end

local function floor_div(a, b)
  if a == math.huge or a == -math.huge then return a end
  local q = math.floor(a / b)
  if a ~= math.floor(a) or b ~= math.floor(b) then return q end
  while q * b > a do q = q - 1 end
  while (q + 1) * b <= a do q = q + 1 end
  return q
end

local function expire(key, ttl)
  redis.call('PEXPIREAT', key, real + ttl + pad)
end
`

/*
 * The driver every algorithm shares, mirroring the memory store: phase 1 finds
 * each key's delay without writing; the request is allowed iff the longest
 * delay is within maxDelay; phase 2 charges every key at now + delay (all or
 * nothing). A kernel provides load, delay, charge, refund, inspect and save.
 *
 * Reply: one table per request, {allowed, delay, retryAfter, blockedBy, real,
 * delayForOne, r1, reset1, ...} (delayForOne: ms until a request of weight 1
 * would fit, when rejected; it feeds the local deny cache). A late command
 * replies {-1, real} and changes nothing.
 *
 * A batch reads each key once and writes it once: the requests of one hot
 * client (or of a global ceiling) decide on the state the previous request of
 * the batch left, kept in Lua, and the last state is written when the batch is
 * done. A state kept here is valid at the `now` it was read or written at
 * (a caller clock may change `now` from request to request): at another
 * `now` the key's pending write goes first and the state is read again.
 */
export const DRIVER = `
-- Pending writes in three tables, not a table per write: Lua allocations are dear here.
local kept, kept_at, written = {}, {}, {}
local pending_s, pending_rates, pending_at = {}, {}, {}

local function write(key)
  local at = pending_at[key]
  if not at then return end
  pending_at[key] = nil
  local current = now
  now = at
  save(key, pending_s[key], pending_rates[key])
  now = current
end

local function get(key, rates)
  if kept_at[key] == now then return kept[key] end
  write(key)
  local s = load(key, rates)
  kept[key] = s
  kept_at[key] = now
  return s
end

local function put(key, s, rates)
  kept[key] = s
  kept_at[key] = now
  if not pending_at[key] then written[#written + 1] = key end
  pending_s[key] = s
  pending_rates[key] = rates
  pending_at[key] = now
end

-- Scratch tables reused by every request of the call (entries 1..n are set before each use).
local keys, params, states = {}, {}, {}

local function decide(n, op, w, max_delay, min_delay)
  for k = 1, n do states[k] = get(keys[k], params[k]) end
  if op == 2 then
    local reply = {1, 0, 0, -1, real, 0}
    for k = 1, n do
      if states[k] then
        local s = refund(states[k], params[k], w)
        put(keys[k], s, params[k])
        states[k] = s
      end
      inspect(states[k], params[k], reply)
    end
    return reply
  end
  local d = 0
  local blocked = -1
  for k = 1, n do
    local x = delay(states[k], params[k], w)
    if x > d then
      d = x
      blocked = k - 1
    end
  end
  local allowed, retry, one = 1, 0, 0
  if op == 1 then
    if d > 0 then allowed = 0 end
    retry = d
    d = 0
  else
    if min_delay > d then d = min_delay end
    if max_delay >= 0 and d > max_delay then
      allowed = 0
      retry = d - max_delay
      d = 0
      for k = 1, n do
        local x = delay(states[k], params[k], 1)
        if x > one then one = x end
      end
    else
      blocked = -1
      for k = 1, n do
        states[k] = charge(states[k], params[k], d, w)
        put(keys[k], states[k], params[k])
      end
    end
  end
  local reply = {allowed, d, retry, blocked, real, one}
  for k = 1, n do inspect(states[k], params[k], reply) end
  return reply
end

local sets = {}
local p = 4
for i = 1, A[3] do
  local n = A[p]
  p = p + 1
  local rates = {}
  for r = 1, n do
    local rate = {}
    for j = 1, PARAMS do rate[j] = A[p + j - 1] end
    p = p + PARAMS
    rates[r] = rate
  end
  sets[i] = rates
end

local replies = {}
local count = A[p]
p = p + 1
local next_key = 1
for r = 1, count do
  local op = A[p]
  local clock = A[p + 1]
  if clock == clock then now = clock else now = real end
  local w = A[p + 2]
  local max_delay = A[p + 3]
  local min_delay = A[p + 4]
  local nkeys = A[p + 5]
  p = p + 6
  for k = 1, nkeys do
    keys[k] = KEYS[next_key]
    next_key = next_key + 1
    params[k] = sets[A[p]]
    p = p + 1
  end
  replies[r] = decide(nkeys, op, w, max_delay, min_delay)
end
for i = 1, #written do write(written[i]) end
return replies
`
