-- wrk script of bench/gateway.bench.ts: an optional Authorization header, and one JSON line at the end
-- (requests, errors by kind, latency percentiles in microseconds) for the benchmark to read.
-- wrk counts an answer with a status >= 400 in errors.status.
local auth = os.getenv("BENCH_AUTHORIZATION")
if auth and #auth > 0 then wrk.headers["Authorization"] = auth end
local accept = os.getenv("BENCH_ACCEPT_ENCODING")
if accept and #accept > 0 then wrk.headers["Accept-Encoding"] = accept end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
