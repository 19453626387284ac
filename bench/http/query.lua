-- wrk script of bench/http/run.sh: POST /v1/collections/{c}/query with request bodies read from a
-- file (one JSON body per line, made by `http_bench prepare`), cycled in order; each wrk thread
-- starts at a different body. With HTTP_BENCH_WRITE_EVERY=N, every Nth request of a thread is
-- instead an upsert of one new point, PUT /v1/collections/{c}/points, its vector taken in turn
-- from HTTP_BENCH_VECTORS (one JSON array per line) and its id unique across threads and runs
-- (HTTP_BENCH_ID_BASE + thread * 10^7 + n).
--
-- Environment: HTTP_BENCH_BODIES (required), HTTP_BENCH_COLLECTION (default "fashion"),
-- HTTP_BENCH_VECTORS, HTTP_BENCH_WRITE_EVERY (default 0: queries only), HTTP_BENCH_ID_BASE.
-- At the end it prints one line, "WRK key=value ...", which run.sh parses: requests, duration,
-- latency percentiles in microseconds, and the error counts (any non-2xx answer is counted).

local collection = os.getenv("HTTP_BENCH_COLLECTION") or "fashion"
local bodies_path = os.getenv("HTTP_BENCH_BODIES")
local vectors_path = os.getenv("HTTP_BENCH_VECTORS")
local write_every = tonumber(os.getenv("HTTP_BENCH_WRITE_EVERY") or "0")
local id_base = tonumber(os.getenv("HTTP_BENCH_ID_BASE") or "1000000000")

local function read_lines(path)
  local out = {}
  local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  for line in f:lines() do
    if #line > 0 then out[#out + 1] = line end
  end
  f:close()
  return out
end

-- Main state: the threads, numbered from 0, so done() can sum their counters.
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  threads[#threads + 1] = thread
end

-- Thread state (`upserts` is global so that done() can read it with thread:get).
local requests, vectors, query_path, points_path
local next_query, next_vector, sent = 1, 1, 0
upserts = 0

function init(args)
  assert(bodies_path, "set HTTP_BENCH_BODIES to a file of query bodies")
  query_path = "/v1/collections/" .. collection .. "/query"
  points_path = "/v1/collections/" .. collection .. "/points"
  -- Whole requests formatted once: request() then only picks one.
  requests = {}
  for _, body in ipairs(read_lines(bodies_path)) do
    requests[#requests + 1] =
      wrk.format("POST", query_path, { ["Content-Type"] = "application/json" }, body)
  end
  local n = #requests
  next_query = (tid * 997) % n + 1
  if write_every > 0 then
    vectors = read_lines(assert(vectors_path, "set HTTP_BENCH_VECTORS for upserts"))
    next_vector = (tid * 101) % #vectors + 1
  end
end

function request()
  sent = sent + 1
  if write_every > 0 and sent % write_every == 0 then
    upserts = upserts + 1
    local id = id_base + tid * 10000000 + upserts
    local body = '{"points": [{"id": ' .. string.format("%.0f", id) .. ', "vector": ' ..
      vectors[next_vector] .. '}]}'
    next_vector = next_vector % #vectors + 1
    return wrk.format("PUT", points_path, { ["Content-Type"] = "application/json" }, body)
  end
  local r = requests[next_query]
  next_query = next_query % #requests + 1
  return r
end

function done(summary, latency, requests_)
  local ups = 0
  for _, t in ipairs(threads) do ups = ups + (tonumber(t:get("upserts")) or 0) end
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d bytes=%d non2xx=%d connect_err=%d read_err=%d " ..
    "write_err=%d timeouts=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f " ..
    "upserts_sent=%d\n",
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, ups))
end
