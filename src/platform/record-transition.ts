/**
 * The Lua of a compare-and-set state change on a JSON record kept under one key (KEYS[1]): ARGV[1]
 * is the JSON list of states it may move from, ARGV[2] the JSON patch (with the new state and this
 * call's `transitionId`; a null deletes a field). A record already carrying that id is the same
 * call resent after its reply was lost: it answers success again instead of "the state has moved
 * on". Answers {1, record} when it moved, {0, record or false} when not. `afterSet` is Lua run
 * once the new record is written (it may use `record` and further KEYS).
 */
export function recordTransitionScript(afterSet = ''): string {
  return `
local raw = redis.call('GET', KEYS[1])
if not raw then return {0, false} end
local record = cjson.decode(raw)
local patch = cjson.decode(ARGV[2])
if record.transitionId ~= nil and record.transitionId == patch.transitionId then return {1, raw} end
local allowed = cjson.decode(ARGV[1])
local ok = false
for _, s in ipairs(allowed) do if record.state == s then ok = true end end
if not ok then return {0, raw} end
for k, v in pairs(patch) do
  if v == cjson.null then record[k] = nil else record[k] = v end
end
local out = cjson.encode(record)
redis.call('SET', KEYS[1], out)
${afterSet}
return {1, out}
`;
}
