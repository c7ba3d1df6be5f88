/*
 * Lua shared by every script. Redis runs Lua 5.1, whose numbers are doubles:
 * the scripts never hold absolute scaled times (`ms * u` can pass 2^53); they
 * keep times in ms and backlogs in the rate's scaled units, which stay small.
 * Numbers handed to `redis.call` are formatted by Redis with full precision;
 * the scripts never concatenate numbers into strings (Lua would print 14 digits).
 *
 * One call decides a batch of requests, in order, each atomically (the script
 * as a whole is atomic): a store sends every request made in the same turn of
 * the event loop in one EVALSHA. KEYS are the distinct keys of the call's
 * requests, in order of first use.
 *
 * ARGV[1] holds every number of the call as little-endian doubles, read with
 * one `struct.unpack` (Redis parses one argument and Lua converts none, where
 * decimal arguments cost a `tonumber` each): 1 deadline in Redis ms or NaN
 * (a command resent or dequeued after the client gave up must not charge),
 * 2 extra expiry ms (caller clock only), 3 1 when the call is simple (every
 * request a consume of one key with one rate and no minDelay, all on one
 * clock: a script may then take a faster path before the driver's) or 0, 4 number of rate sets; per rate set
 * (the rates of one policy, sent once per call however many requests use it)
 * the number of rates and each rate's parameters; then the number of
 * requests, and per request: op (0 consume, 1 peek, 2 refund), caller clock
 * ms or NaN (use TIME), weight, maxDelay ms (-1: unbounded), minDelay ms (the
 * slot must be at least this late: the second call on a Cluster), number of
 * keys, then per key its rate set's index and its index in KEYS (both from 1).
 *
 * The reply is one string of little-endian doubles too: 1 (or -1 when the
 * deadline has passed: then nothing else follows and nothing was charged),
 * Redis's clock in ms, then per request: allowed (1/0), delay ms, retryAfter
 * ms, blockedBy (the target that decided, -1: none), delayForOne (ms until a
 * request of weight 1 would fit, when rejected: it feeds the local deny
 * cache), then per key per rate the kernel's numbers (the windows: remaining
 * and reset ms; the buckets: the backlog, from which the client computes them).
 */
export const PRELUDE = `
-- Redis before 5 replicates scripts verbatim unless asked for effects, and TIME is not deterministic.
if redis.replicate_commands then redis.replicate_commands() end
-- Locals: a global like math.floor is a table lookup at every use.
local floor, ceil, huge = math.floor, math.ceil, math.huge
local pack, unpack_doubles = struct.pack, struct.unpack
-- The struct format of n little-endian doubles: a prefix of a constant (interned once, when the
-- script is loaded) up to 1,024, which covers the arguments and the reply of a full batch of
-- simple requests. A call builds its formats anew, and string.rep and a concatenation cost a
-- one-request call about 5 % of its instructions more than string.sub.
local D = '<${'d'.repeat(1024)}'
local function doubles(n)
  if n <= 1024 then return D:sub(1, n + 1) end
  return '<' .. string.rep('d', n)
end

local t = redis.call('TIME')
local real = t[1] * 1000 + floor(t[2] / 1000)
local A = {unpack_doubles(doubles(#ARGV[1] / 8), ARGV[1])}
-- NaN (no deadline) is the one value unequal to itself.
if A[1] == A[1] and real > A[1] then return pack('<dd', -1, real) end
local pad = A[2]
local now = real

-- Whole-number division, exact for integers. An infinite dividend (a weight that overflows a
-- product) is returned as is: the adjustment loops below would never end on it.
local function ceil_div(a, b)
  if a <= 0 then return 0 end
  if a == huge then return a end
  local q = ceil(a / b)
  if a % 1 ~= 0 or b % 1 ~= 0 then return q end
  while q * b < a do q = q + 1 end
  while q > 0 and (q - 1) * b >= a do q = q - 1 end
  return q
end

-- The reply: out[1..o] as doubles. unpack puts every value on Lua's stack, which holds 8,000: pack in parts.
local function reply(out, o)
  if o <= 4000 then return pack(doubles(o), unpack(out, 1, o)) end
  local parts = {}
  for i = 1, o, 4000 do
    local j = i + 3999
    if j > o then j = o end
    parts[#parts + 1] = pack(doubles(j - i + 1), unpack(out, i, j))
  end
  return table.concat(parts)
end
`

/*
 * Helpers only some scripts use, apart from the prelude: Lua creates a script's local functions
 * again at every call, so each script defines only what it calls.
 */
export const FLOOR_DIV = `
-- Whole-number division rounding down, exact for integers (see ceil_div).
local function floor_div(a, b)
  if a == huge or a == -huge then return a end
  local q = floor(a / b)
  if a % 1 ~= 0 or b % 1 ~= 0 then return q end
  while q * b > a do q = q - 1 end
  while (q + 1) * b <= a do q = q + 1 end
  return q
end
`

export const EXPIRE = `
local function expire(key, ttl)
  redis.call('PEXPIREAT', key, real + ttl + pad)
end
`

/*
 * The driver every algorithm shares, mirroring the memory store: phase 1 finds
 * each key's delay without writing; the request is allowed iff the longest
 * delay is within maxDelay; phase 2 charges every key at now + delay (all or
 * nothing). A kernel provides:
 * - prepare(): runs once before the first request (the bucket kernel reads
 *   every key with one MGET there);
 * - load(i, rates): the state of the key KEYS[i], valid at now (nil: fresh);
 * - advance(s, rates, from): a state valid at `from`, valid at now;
 * - delay, charge (may change the state in place), refund, inspect (writes
 *   each rate's numbers into the reply after position o, returns the new
 *   position) and save(i, s, rates) (writes the state of KEYS[i], valid at now).
 *
 * A batch reads each key once and writes it once, without Lua tables keyed by
 * key names (a table entry is dear in Redis's Lua): the client sends each key
 * once and numbers the requests' keys, so the requests of one hot client (or
 * of a global ceiling) decide on the state the previous request left, kept in
 * arrays by key index, and each key's last state is written when the batch is
 * done.
 */
export const DRIVER = `
local sets = {}
local p = 5
for i = 1, A[4] do
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

prepare()
-- Per key index: the key's state, the ms it is valid at, its rates, and whether it is to be written.
local state, state_at, state_rates, dirty = {}, {}, {}, {}
-- The key indexes of the request being decided (reused).
local mine = {}
local seen = 0
local out = {1, real}
local o = 2
local count = A[p]
p = p + 1
for _ = 1, count do
  local op, clock, w, max_delay, min_delay, n = A[p], A[p + 1], A[p + 2], A[p + 3], A[p + 4], A[p + 5]
  p = p + 6
  if clock == clock then now = clock else now = real end
  for k = 1, n do
    local rates = sets[A[p]]
    local key = A[p + 1]
    p = p + 2
    mine[k] = key
    local s
    if key > seen then
      seen = key
      s = load(key, rates)
    else
      s = state[key]
      if state_at[key] ~= now then s = advance(s, rates, state_at[key]) end
    end
    state[key] = s
    state_at[key] = now
    state_rates[key] = rates
  end
  local allowed, d, retry, blocked, one = 1, 0, 0, -1, 0
  if op == 2 then
    for k = 1, n do
      local key = mine[k]
      if state[key] then
        state[key] = refund(state[key], state_rates[key], w)
        dirty[key] = true
      end
    end
  else
    for k = 1, n do
      local key = mine[k]
      local x = delay(state[key], state_rates[key], w)
      if x > d then
        d = x
        blocked = k - 1
      end
    end
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
          local key = mine[k]
          local x = delay(state[key], state_rates[key], 1)
          if x > one then one = x end
        end
      else
        blocked = -1
        for k = 1, n do
          local key = mine[k]
          state[key] = charge(state[key], state_rates[key], d, w)
          dirty[key] = true
        end
      end
    end
  end
  out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5] = allowed, d, retry, blocked, one
  o = o + 5
  for k = 1, n do
    local key = mine[k]
    o = inspect(state[key], state_rates[key], out, o)
  end
end
for key = 1, seen do
  if dirty[key] then
    now = state_at[key]
    save(key, state[key], state_rates[key])
  end
end
return reply(out, o)
`
