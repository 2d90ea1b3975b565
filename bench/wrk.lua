-- wrk script for bench/run.py: one file for every server and method, chosen by its arguments.
--   wrk ... -s bench/wrk.lua URL -- MODE PATH OK_STATUS BODIES_FILE RUN [CSRF COOKIE]
-- MODE: get | form (author, body) | csrf-form (this app's form: CSRF token, session cookie and a
-- fresh submission token per POST) | json (Isso's API) | api-json (this app's API: the article's
-- slug in place of CSRF, a fresh submission token per POST). Each POST carries a unique tag
-- "[RUN tN-M]" so bench/run.py can find every accepted comment in the database afterwards.
-- Ends with one line "BENCH_JSON {...}" that bench/run.py reads.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local function load_bodies(file)
  local bodies = {}
  for line in io.lines(file) do table.insert(bodies, line) end
  return bodies
end

local function urlencode(text)
  return (text:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  mode, path, ok_status = args[1], args[2], tonumber(args[3])
  bodies = mode ~= "get" and load_bodies(args[4]) or {}
  run, csrf, cookie = args[5], args[6], args[7]
  sent, ok, unexpected = 0, 0, 0
  if mode == "get" then
    fixed = wrk.format("GET", path)
  end
end

local function post_body(tag, token)
  -- bodies hold one comment a line, already encoded for the mode (url-encoded or a JSON string)
  local text = bodies[(sent % #bodies) + 1]
  if mode == "json" then
    return '{"author": "bench", "text": ' .. text:sub(1, -2) .. ' ' .. tag .. '"}'
  end
  if mode == "api-json" then
    return '{"article": "' .. csrf .. '", "author": "bench", "body": ' .. text:sub(1, -2) .. ' ' .. tag
      .. '", "email": "", "submission_token": "' .. token .. '"}'
  end
  local fields = "author=bench&body=" .. text .. urlencode(" " .. tag)
  if mode == "csrf-form" then
    fields = fields .. "&csrf_token=" .. urlencode(csrf) .. "&submission_token=" .. token
      .. "&email=&website="
  end
  return fields
end

function request()
  if fixed then return fixed end
  sent = sent + 1
  local tag = string.format("[%s t%d-%d]", run, id, sent)
  local headers = {}
  if mode == "json" or mode == "api-json" then
    headers["Content-Type"] = "application/json"
  else
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  if cookie then headers["Cookie"] = cookie end
  local token = string.format("%s-t%d-%d", run, id, sent)
  return wrk.format("POST", path, headers, post_body(tag, token))
end

function response(status, headers, body)
  if status == ok_status then ok = ok + 1 else unexpected = unexpected + 1 end
end

function done(summary, latency, requests)
  local total_ok, total_unexpected = 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_unexpected = total_unexpected + thread:get("unexpected")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "ok": %d, "unexpected": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, total_ok, total_unexpected, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
