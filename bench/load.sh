#!/usr/bin/env bash
# Load benchmark (issue 3 item 10) on the demo county, SQLite, release build:
#  (a) the county dashboard: 1 000 sequential requests after 10 warm-ups, each read to
#      the last byte over one keep-alive connection on loopback → p50/p95/p99;
#  (b) wrk, 200 connections for 60 s: household pages mixed with visit writes (each
#      write with its own idempotency key), against the server's bare static
#      endpoint (/static/app.css) in the same run; errors counted (a database-busy
#      answer is an error), and the visit rows checked against the successful writes.
#   bench/load.sh [HOUSEHOLDS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-30000}"
SECS="${2:-60}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/fupin/target}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
cargo build --release --locked -q -p fupin
BIN="$CARGO_TARGET_DIR/release/fupin"
OUT="bench/out/load"
PORT="${PORT:-18181}"
BASE="http://127.0.0.1:$PORT"
rm -rf "$OUT"; mkdir -p "$OUT"

echo "== demo county: $N households"
"$BIN" demo --data "$OUT/data" --households "$N" --listen "127.0.0.1:$PORT" > "$OUT/demo.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do curl -fs -o /dev/null "$BASE/login" && break; sleep 1; done
curl -fs -o /dev/null "$BASE/login" || { echo "the demo server did not start"; cat "$OUT/demo.log"; exit 1; }
password() { awk -v u="$1" '$1 == u && $2 == "密码" {print $3}' "$OUT/demo.log"; }
login() {
  curl -fs -o /dev/null -c "$OUT/$1.jar" -H "Origin: $BASE" --data-urlencode "username=$1" \
    --data-urlencode "password=$(password "$1")" "$BASE/login"
  awk '!/^#/ || /^#HttpOnly_/ {n=$6; v=$7} END {print n "=" v}' "$OUT/$1.jar"
}
COUNTY_COOKIE=$(login county)
VILLAGE_COOKIE=$(login village)

echo "== (a) county dashboard, 1 000 sequential requests"
python3 - "$PORT" "$COUNTY_COOKIE" <<'PY'
import http.client, sys, time
port, cookie = int(sys.argv[1]), sys.argv[2]
conn = http.client.HTTPConnection("127.0.0.1", port)
def get():
    t = time.perf_counter()
    conn.request("GET", "/dashboard", headers={"Cookie": cookie})
    r = conn.getresponse(); body = r.read()
    assert r.status == 200 and b"<svg" in body, (r.status, body[:200])
    return time.perf_counter() - t
for _ in range(10): get()
ts = sorted(get() for _ in range(1000))
q = lambda p: ts[min(len(ts) - 1, int(p * len(ts)))] * 1000
print(f"dashboard: p50 {q(.50):.1f} ms, p95 {q(.95):.1f} ms, p99 {q(.99):.1f} ms, max {ts[-1]*1000:.1f} ms (goal p95 < 100 ms)")
PY

echo "== (b) wrk: 200 connections, ${SECS} s"
VILLAGE=$(sqlite3 "$OUT/data/fupin.sqlite" "select area_code from users where username = 'village'")
sqlite3 "$OUT/data/fupin.sqlite" "select hh_id from households where village_code = '$VILLAGE'" > "$OUT/ids.txt"
TODAY=$(date +%F)
BEFORE=$(sqlite3 "$OUT/data/fupin.sqlite" "select count(*) from visits")
cat > "$OUT/mix.lua" <<LUA
local ids = {}
for line in io.lines("$OUT/ids.txt") do ids[#ids + 1] = line end
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  seq, reads, writes, ok_writes, errors = 0, 0, 0, 0, 0
  math.randomseed(tid * 7919)
end
function request()
  seq = seq + 1
  local id = ids[math.random(#ids)]
  if seq % 5 == 0 then
    local body = string.format("key=load-%d-%d-%d&visited_on=$TODAY&mode=phone&notes=load", tid, seq, math.random(1e9))
    return wrk.format("POST", "/my/household/" .. id .. "/visit",
      {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "$VILLAGE_COOKIE", ["Origin"] = "$BASE"}, body)
  end
  return wrk.format("GET", "/household/" .. id, {["Cookie"] = "$VILLAGE_COOKIE"})
end
function response(status, headers, body)
  local loc = headers["Location"] or headers["location"] or ""
  if status == 303 and string.find(loc, "/my/household/", 1, true) then
    writes = writes + 1; ok_writes = ok_writes + 1
  elseif status == 200 then
    reads = reads + 1
  else
    errors = errors + 1
  end
end
function done(summary, latency, requests)
  local r, w, e = 0, 0, 0
  for _, t in ipairs(threads) do
    r = r + t:get("reads"); w = w + t:get("ok_writes"); e = e + t:get("errors")
  end
  local socket = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("mix: %d page reads, %d visit writes ok, %d error answers, %d socket errors/timeouts; p50 %.1f ms, p99 %.1f ms, %.0f requests/s\n",
    r, w, e, socket, latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6)))
  local f = io.open("$OUT/writes.txt", "w"); f:write(w); f:close()
  local g = io.open("$OUT/errors.txt", "w"); g:write(e + socket); g:close()
end
LUA
wrk -t2 -c200 -d"${SECS}s" --latency -s "$OUT/mix.lua" "$BASE" | tee "$OUT/mix.txt"
cat > "$OUT/bare.lua" <<'LUA'
function done(summary, latency, requests)
  io.write(string.format("bare: p50 %.1f ms, p99 %.1f ms, %.0f requests/s, %d errors\n", latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
wrk -t2 -c200 -d"${SECS}s" --latency -s "$OUT/bare.lua" "$BASE/static/app.css" | tee "$OUT/bare.txt"

AFTER=$(sqlite3 "$OUT/data/fupin.sqlite" "select count(*) from visits")
ROWS=$((AFTER - BEFORE))
WRITES=$(cat "$OUT/writes.txt")
MIX_RPS=$(sed -n 's/^mix: .* \([0-9]*\) requests\/s$/\1/p' "$OUT/mix.txt")
BARE_RPS=$(sed -n 's/^bare: .* \([0-9]*\) requests\/s.*/\1/p' "$OUT/bare.txt")
echo
# wrk stops with up to one request in flight per connection: such a write may land
# without wrk seeing its answer, never the reverse.
DIFF=$((ROWS - WRITES))
if [ "$DIFF" -ge 0 ] && [ "$DIFF" -le 200 ]; then verdict="consistent: $DIFF more rows than answers, at most one in flight per connection"
else verdict="INCONSISTENT: every answered write must be a row, and at most 200 unanswered"; fi
echo "visit rows written: $ROWS; successful visit writes: $WRITES; $verdict"
echo "errors in the mix: $(cat "$OUT/errors.txt") (goal 0)"
python3 -c "print(f'household-page mix / bare endpoint: {int(\"$MIX_RPS\") / int(\"$BARE_RPS\") * 100:.1f} % (goal >= 25 %)')"
