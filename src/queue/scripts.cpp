// The queue's Lua scripts. Deadlines are the server's TIME in milliseconds,
// never a node's clock. Every script that writes sets the expiry on every key
// of the run (EXPIRE on a key that does not exist does nothing), so no key
// outlives the ttl after the run's last write.
#include "scripts.hpp"

namespace shardrun::queue_scripts {

namespace {

// Shared by every script: named keys, the server's clock, the expiry, and the
// reclaiming of expired leases.
constexpr std::string_view kPrelude = R"lua(
local K = {published = KEYS[1], queue = KEYS[2], units = KEYS[3], predicted = KEYS[4],
           leases = KEYS[5], owner = KEYS[6], token = KEYS[7], tokens = KEYS[8],
           requeues = KEYS[9], lost = KEYS[10], results = KEYS[11], next_id = KEYS[12],
           lost_by = KEYS[13]}
local ttl = tonumber(ARGV[1])
local max_requeues = tonumber(ARGV[2])

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function touch()
  for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ttl) end
end

-- Leases whose deadline has passed: the unit goes back to the queue, or to
-- `lost` once it has expired more than max_requeues times. Returns how many.
local function reclaim(now)
  local expired = redis.call('ZRANGEBYSCORE', K.leases, '-inf', '(' .. now)
  for _, id in ipairs(expired) do
    redis.call('ZREM', K.leases, id)
    local owner = redis.call('HGET', K.owner, id)
    if owner then redis.call('HSET', K.lost_by, id, owner) end
    redis.call('HDEL', K.owner, id)
    redis.call('HDEL', K.token, id)
    local n = redis.call('HINCRBY', K.requeues, id, 1)
    if n > max_requeues then
      redis.call('SADD', K.lost, id)
    else
      redis.call('ZADD', K.queue, redis.call('HGET', K.predicted, id), id)
    end
  end
  return #expired
end
)lua";

}  // namespace

// ARGV[3..]: id, predicted seconds, payload; repeated. Returns 1 if this call
// published, 0 if the run had been published already (nothing changed).
const std::string_view kPublish = R"lua(
if not redis.call('SET', K.published, '1', 'NX') then return 0 end
local last = -1
for i = 3, #ARGV, 3 do
  local id = ARGV[i]
  redis.call('HSET', K.units, id, ARGV[i + 2])
  redis.call('HSET', K.predicted, id, ARGV[i + 1])
  redis.call('ZADD', K.queue, ARGV[i + 1], id)
  if tonumber(id) > last then last = tonumber(id) end
end
redis.call('SET', K.next_id, last)
touch()
return 1
)lua";

// ARGV[3] node, ARGV[4] lease in ms. Returns {'unit', id, predicted, payload,
// token, requeues, lost_by}, {'wait'} or {'done'}; lost_by: the node whose
// lease of it expired last ('' if none).
const std::string_view kReserve = R"lua(
local now = now_ms()
local wrote = reclaim(now) > 0
local popped = redis.call('ZPOPMAX', K.queue)
if #popped == 0 then
  if wrote then touch() end
  if redis.call('EXISTS', K.published) == 1 and redis.call('ZCARD', K.leases) == 0 then
    return {'done'}
  end
  return {'wait'}
end
local id = popped[1]
local token = redis.call('INCR', K.tokens)
redis.call('ZADD', K.leases, now + tonumber(ARGV[4]), id)
redis.call('HSET', K.owner, id, ARGV[3])
redis.call('HSET', K.token, id, token)
touch()
local requeues = redis.call('HGET', K.requeues, id) or '0'
return {'unit', id, redis.call('HGET', K.predicted, id), redis.call('HGET', K.units, id),
        tostring(token), requeues, redis.call('HGET', K.lost_by, id) or ''}
)lua";

// ARGV[3] node, ARGV[4] lease in ms. Returns how many leases it extended.
const std::string_view kHeartbeat = R"lua(
local now = now_ms()
local wrote = reclaim(now) > 0
local owners = redis.call('HGETALL', K.owner)
local extended = 0
for i = 1, #owners, 2 do
  if owners[i + 1] == ARGV[3] then
    redis.call('ZADD', K.leases, 'XX', now + tonumber(ARGV[4]), owners[i])
    extended = extended + 1
  end
end
if wrote or extended > 0 then touch() end
return extended
)lua";

// ARGV[3] unit id, ARGV[4] token, ARGV[5] result, ARGV[6] the result's cap in
// bytes, ARGV[7..]: predicted seconds, payload of each new unit. Returns
// {'accepted', new ids...} or {'rejected'}.
const std::string_view kComplete = R"lua(
local now = now_ms()
local wrote = reclaim(now) > 0
local id = ARGV[3]
if redis.call('HGET', K.token, id) ~= ARGV[4] then
  if wrote then touch() end
  return {'rejected'}
end
redis.call('ZREM', K.leases, id)
redis.call('HDEL', K.owner, id)
redis.call('HDEL', K.token, id)
redis.call('HSET', K.results, id, string.sub(ARGV[5], 1, tonumber(ARGV[6])))
local answer = {'accepted'}
for i = 7, #ARGV, 2 do
  local new_id = tostring(redis.call('INCR', K.next_id))
  redis.call('HSET', K.units, new_id, ARGV[i + 1])
  redis.call('HSET', K.predicted, new_id, ARGV[i])
  redis.call('ZADD', K.queue, ARGV[i], new_id)
  answer[#answer + 1] = new_id
end
touch()
return answer
)lua";

// ARGV[3] unit id, ARGV[4] token. A unit reserved but not run (its node is
// stopping) goes back to the queue at once, its requeue count unchanged.
// Returns 1 if released, 0 if `token` is not the unit's current lease token
// (then nothing changes; an expired lease is reclaimed and counted first).
const std::string_view kRelease = R"lua(
local now = now_ms()
local wrote = reclaim(now) > 0
local id = ARGV[3]
if redis.call('HGET', K.token, id) ~= ARGV[4] then
  if wrote then touch() end
  return 0
end
redis.call('ZREM', K.leases, id)
redis.call('HDEL', K.owner, id)
redis.call('HDEL', K.token, id)
redis.call('ZADD', K.queue, redis.call('HGET', K.predicted, id), id)
touch()
return 1
)lua";

std::string with_prelude(std::string_view body) {
  return std::string(kPrelude) + std::string(body);
}

}  // namespace shardrun::queue_scripts
