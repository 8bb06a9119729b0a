#!/usr/bin/env bash
# Rule-check benchmark (issue 4 item 8): `fupin check` with all built-in rule sets (dq,
# exit, monitoring, eligibility; those rules that apply to the policy year) on a
# generated county of PERSONS persons (default 1 000 000, about 300 000 households),
# from the SQLite registry on disk to stored findings, against DuckDB running the same
# rules as SQL (the per-rule statements `fupin rules sql` emits) over the same rows in a
# DuckDB file and writing its findings to a table. Asserts both found the same number of findings per
# rule (a per-rule table and exit 1 otherwise), prints both times, the ratio and peak
# memory; then times the same check on PostgreSQL (a dedicated database, dropped after).
#   bench/check.sh [PERSONS]
set -euo pipefail
cd "$(dirname "$0")/.."
PERSONS="${1:-1000000}"
case "$PERSONS" in '' | *[!0-9]*) echo "用法：bench/check.sh [人数]（正整数）" >&2; exit 2 ;; esac
# The generator averages about 3.27 persons a household.
HOUSEHOLDS=$((PERSONS * 100 / 327))
[ "$HOUSEHOLDS" -ge 10 ] || { echo "人数太少：至少 33 人" >&2; exit 2; }
FAULTS=$((HOUSEHOLDS / 100))
PG="${FUPIN_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
PGDB=fupin_bench_check
# The shipped sets (sample.toml is an example for rule writers, not a check).
SETS=(--set dq --set exit --set monitoring --set eligibility)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/fupin/target}"
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb
cargo build --release --locked -q -p fupin
BIN="$CARGO_TARGET_DIR/release/fupin"
OUT="bench/out/check"
rm -rf "$OUT"; mkdir -p "$OUT/csv"
TODAY=2026-11-27
secs() { awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$1"; }
peak() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }

echo "== generate $HOUSEHOLDS households, $FAULTS faults"
"$BIN" generate --households "$HOUSEHOLDS" --seed 7 --faults "$FAULTS" --out "$OUT/files" --today "$TODAY" >/dev/null 2>&1
FILES=("$OUT"/files/{households,helpers,persons,incomes,village_years,pairings}.csv)
echo "persons: $(($(wc -l < "$OUT/files/persons.csv") - 1))"

echo "== fupin import (SQLite; not part of the timed check)"
"$BIN" init --data "$OUT/reg" --county 610981 --admin-password bench-only >/dev/null
/usr/bin/time -f '%e s, peak %M KB' "$BIN" import --data "$OUT/reg" "${FILES[@]}" >/dev/null
"$BIN" rules sql "${SETS[@]}" --data "$OUT/reg" --today "$TODAY" --dialect sqlite > "$OUT/rules.jsonl"
echo "rules: $(wc -l < "$OUT/rules.jsonl") ($(python3 -c "import collections, json, sys
print(', '.join(f'{s} {n}' for s, n in collections.Counter(json.loads(l)['set'] for l in open(sys.argv[1]))
.items()))" "$OUT/rules.jsonl"))"

echo "== DuckDB: load the same rows from the registry (not timed)"
DB="$OUT/reg/fupin.sqlite"
TABLES=(households persons incomes village_years pairings helpers)
for t in "${TABLES[@]}"; do
  printf '.headers on\n.mode csv\n.nullvalue @@NULL@@\n.once %s\nSELECT * FROM %s;\n' "$OUT/csv/$t.csv" "$t" | sqlite3 "$DB"
done
python3 - "$DB" "$OUT" "${TABLES[@]}" <<'PY'
import sqlite3, sys, duckdb
src, out, tables = sys.argv[1], sys.argv[2], sys.argv[3:]
types = {"INTEGER": "BIGINT", "REAL": "DOUBLE", "TEXT": "VARCHAR"}
lite = sqlite3.connect(src)
duck = duckdb.connect(f"{out}/ref.duckdb")
for t in tables:
    info = lite.execute(f"PRAGMA table_info({t})").fetchall()
    cols = ", ".join(f"{name} {types[ty.upper()]}{' NOT NULL' if notnull else ''}" for _, name, ty, notnull, _, _ in info)
    pk = ", ".join(name for _, name, _, _, _, k in sorted(info, key=lambda c: c[5]) if k)
    duck.execute(f"CREATE TABLE {t} ({cols}, PRIMARY KEY ({pk}))")
    duck.execute(f"COPY {t} FROM '{out}/csv/{t}.csv' (HEADER, NULLSTR '@@NULL@@', QUOTE '\"', ESCAPE '\"')")
    n = lite.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
    m = duck.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
    if n != m:
        sys.exit(f"{t}: SQLite has {n} rows, DuckDB loaded {m}")
duck.close()
PY
rm -rf "$OUT/csv"

echo "== fupin check ${SETS[*]} (SQLite, registry on disk -> stored findings)"
LOAD_FUPIN=$(uptime | sed 's/.*load average: //')
/usr/bin/time -v "$BIN" check --data "$OUT/reg" --today "$TODAY" "${SETS[@]}" --format json --out "$OUT/fupin.json" \
  --timings 2> "$OUT/fupin.time"
FUPIN_S=$(secs "$OUT/fupin.time"); FUPIN_KB=$(peak "$OUT/fupin.time")

echo "== DuckDB: the same rules as SQL -> findings table"
cat > "$OUT/duck_check.py" <<'PY'
import json, sys, time, duckdb
out = sys.argv[1]
start = time.perf_counter()
duck = duckdb.connect(f"{out}/ref.duckdb")
# fupin's SQL assumes SQLite/PostgreSQL integer division (truncating).
duck.execute("SET integer_division = true")
# SQLite's julianday() (the monitoring rules' day counts); DuckDB's julian() counts the same days.
duck.execute("CREATE OR REPLACE MACRO julianday(d) AS julian(TRY_CAST(d AS DATE))")
duck.execute("DROP TABLE IF EXISTS findings")
duck.execute("CREATE TABLE findings (rule_id VARCHAR NOT NULL, entity_id VARCHAR NOT NULL, PRIMARY KEY (rule_id, entity_id))")
timings = []
for line in open(f"{out}/rules.jsonl", encoding="utf-8"):
    r = json.loads(line)
    if r["sql"] is None:
        sys.exit(f"规则 {r['rule']} 没有 SQL 形式：{r['reason']}")
    t0 = time.perf_counter()
    n = len(r["params"])
    duck.execute(
        f"INSERT INTO findings SELECT ${n + 1}, k FROM ({r['sql']}) AS t(k, verdict) WHERE verdict = 0",
        r["params"] + [r["rule"]],
    )
    timings.append((time.perf_counter() - t0, r["rule"]))
duck.close()
print(f"{time.perf_counter() - start:.3f}")
for s, rule in sorted(timings, reverse=True)[:10]:
    print(f"  {rule}\t{s:.3f} s", file=sys.stderr)
PY
LOAD_DUCK=$(uptime | sed 's/.*load average: //')
/usr/bin/time -v python3 "$OUT/duck_check.py" "$OUT" > "$OUT/duck.s" 2> "$OUT/duck.time"
DUCK_S=$(cat "$OUT/duck.s"); DUCK_KB=$(peak "$OUT/duck.time")

echo "== PostgreSQL: the same check ($PG/$PGDB)"
export PGOPTIONS="-c client_min_messages=warning"
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $PGDB" -c "CREATE DATABASE $PGDB"
trap 'psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null 2>&1 || true' EXIT
# The chain key of this throwaway PostgreSQL registry (README, Tamper evidence).
rm -f "$OUT/pg-chain.key"
export FUPIN_CHAIN_KEY="$OUT/pg-chain.key"
"$BIN" init --db "$PG/$PGDB" --county 610981 --admin-password bench-only >/dev/null
/usr/bin/time -f '%e s, peak %M KB' "$BIN" import --db "$PG/$PGDB" "${FILES[@]}" >/dev/null
LOAD_PG=$(uptime | sed 's/.*load average: //')
/usr/bin/time -v "$BIN" check --db "$PG/$PGDB" --today "$TODAY" "${SETS[@]}" --format json --out "$OUT/pg.json" \
  --timings 2> "$OUT/pg.time"
PG_S=$(secs "$OUT/pg.time"); PG_KB=$(peak "$OUT/pg.time")

echo "== findings per rule"
python3 - "$OUT" <<'PY'
import collections, json, sys, duckdb
out = sys.argv[1]
rules = [json.loads(l)["rule"] for l in open(f"{out}/rules.jsonl", encoding="utf-8")]
def fupin(name):
    doc = json.load(open(f"{out}/{name}.json", encoding="utf-8"))
    return collections.Counter(f["rule_id"] for f in doc["findings"])
lite, pg = fupin("fupin"), fupin("pg")
duck = dict(duckdb.connect(f"{out}/ref.duckdb", read_only=True)
            .execute("SELECT rule_id, COUNT(*) FROM findings GROUP BY rule_id").fetchall())
bad = [r for r in rules if not (lite[r] == pg[r] == duck.get(r, 0))]
extra = (set(lite) | set(pg) | set(duck)) - set(rules)
print(f"rules: {len(rules)}, findings: fupin SQLite {sum(lite.values())}, "
      f"fupin PostgreSQL {sum(pg.values())}, DuckDB {sum(duck.values())}")
if bad or extra:
    print(f"{'rule':<12}{'SQLite':>10}{'PostgreSQL':>12}{'DuckDB':>10}")
    for r in sorted(set(bad) | extra):
        print(f"{r:<12}{lite[r]:>10}{pg[r]:>12}{duck.get(r, 0):>10}")
    sys.exit("MISMATCH: the engines found different numbers of findings")
print("same number of findings per rule on all three")
PY

echo
echo "slowest rules, fupin SQLite:"; grep -A8 '规则用时' "$OUT/fupin.time" | sed -n 1,9p
echo "slowest rules, DuckDB:"; grep -v ':' "$OUT/duck.time" | grep -P '^\s+\S+\t' | head -8 || true
echo "slowest rules, fupin PostgreSQL:"; grep -A8 '规则用时' "$OUT/pg.time" | sed -n 1,9p
echo
echo "persons:               $(($(wc -l < "$OUT/files/persons.csv") - 1))"
echo "fupin check SQLite:    ${FUPIN_S} s, peak ${FUPIN_KB} KB (load before: $LOAD_FUPIN)"
echo "DuckDB same rules:     ${DUCK_S} s, peak ${DUCK_KB} KB (python process; load before: $LOAD_DUCK)"
echo "fupin check Postgres:  ${PG_S} s, peak ${PG_KB} KB (load before: $LOAD_PG)"
echo "ratio fupin/DuckDB:    $(python3 -c "print(round($FUPIN_S / $DUCK_S, 2))") (goal <= 1.0)"
