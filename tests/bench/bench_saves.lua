-- wrk script for bench_saves.py: one wrk thread is one client.
--
-- Each thread has one keep-alive connection, its own session cookie, CSRF
-- token and (person, item) pairs, read from the file named by BENCH_CLIENTS
-- (one line per client: cookie TAB token TAB item=revision,item=revision...).
-- With one connection per thread, requests go one at a time, so the revision
-- each save sends is the one the previous answer returned: no save is stale.
-- BENCH_MODE=bare sends the very same requests, to BENCH_PATH (the bare route).

local mode = os.getenv("BENCH_MODE") or "save"
local path = os.getenv("BENCH_PATH")
local run = os.getenv("BENCH_RUN") or "run"

-- Main state: hand each thread its client's line.
local clients, given = {}, 0

function setup(thread)
  if #clients == 0 then
    for line in io.lines(os.getenv("BENCH_CLIENTS")) do
      clients[#clients + 1] = line
    end
  end
  given = given + 1
  thread:set("client", clients[given] or "")
end

-- Thread state.
local items, revisions, n, current = {}, {}, 0, nil
local codes = { "1", "2", "3", "4", "5" }

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local cookie, token, owned = client:match("^([^\t]*)\t([^\t]*)\t(.*)$")
  for item, revision in owned:gmatch("([^,=]+)=(%d+)") do
    items[#items + 1] = item
    revisions[item] = tonumber(revision)
  end
  wrk.headers["Accept"] = "application/json"
  wrk.headers["X-CSRFToken"] = token
  wrk.headers["Cookie"] = cookie
end

function request()
  current = items[n % #items + 1]
  local body = string.format(
    '{"item_id": "%s", "value": "%s", "comment": "%s save %d", '
      .. '"evidence": "", "revision": %d}',
    current, codes[math.floor(n / #items) % 5 + 1], run, n, revisions[current]
  )
  n = n + 1
  return wrk.format(nil, path, nil, body)
end

function response(status, headers, body)
  if mode == "save" and status == 200 then
    revisions[current] = tonumber(body:match('"revision":%s*(%d+)'))
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, '
      .. '"p99_us": %d, "errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout
  ))
end
