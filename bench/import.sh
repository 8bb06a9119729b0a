#!/usr/bin/env bash
# Import benchmark: fupin import of a generated county (default 300 000 households,
# about 1 000 000 persons) into a fresh SQLite registry, against the sqlite3 shell's
# .import of the same CSV files into tables with the same primary keys, in one run.
# Prints both times, the ratio and fupin's peak memory.
#   bench/import.sh [HOUSEHOLDS]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-300000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/fupin/target}"
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --locked -q -p fupin
BIN="$CARGO_TARGET_DIR/release/fupin"
OUT="bench/out/import"
rm -rf "$OUT"; mkdir -p "$OUT"

echo "== generate $N households"
/usr/bin/time -f '%e s, peak %M KB' "$BIN" generate --households "$N" --seed 7 --out "$OUT/files" --today 2026-11-27
FILES=("$OUT"/files/{households,helpers,persons,incomes,village_years,pairings}.csv)
PERSONS=$(($(wc -l < "$OUT/files/persons.csv") - 1))
echo "persons: $PERSONS"

echo "== fupin import"
"$BIN" init --data "$OUT/reg" --county 610981 --admin-password bench-only >/dev/null
/usr/bin/time -v "$BIN" import --data "$OUT/reg" "${FILES[@]}" 2> "$OUT/fupin.time" >/dev/null
FUPIN_S=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$OUT/fupin.time")
FUPIN_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/fupin.time")

echo "== sqlite3 .import (same files, same primary keys)"
python3 - "$OUT/ref.sql" <<'PY'
import sys
# Tables with the same primary keys as fupin's schema; columns as TEXT (.import loads text).
import re, pathlib
ddl = pathlib.Path("crates/store/migrations/sqlite/0001_registry.sql").read_text()
out = []
for m in re.finditer(r"CREATE TABLE (\w+) \((.*?)\n\);", ddl, re.S):
    name, body = m.group(1), m.group(2)
    if name in ("change_log", "meta", "divisions"):
        continue
    cols = [l.strip().split()[0] for l in body.strip().split("\n") if not l.strip().startswith("PRIMARY")]
    pk = re.search(r"PRIMARY KEY \(([^)]*)\)", body).group(1)
    out.append(f"CREATE TABLE {name} ({', '.join(c + ' TEXT' for c in cols)}, PRIMARY KEY ({pk}));")
pathlib.Path(sys.argv[1]).write_text("\n".join(out) + "\n")
PY
rm -f "$OUT/ref.sqlite"
sqlite3 "$OUT/ref.sqlite" < "$OUT/ref.sql"
{
  echo "PRAGMA journal_mode=WAL;"
  echo ".mode csv"
  for f in "${FILES[@]}"; do t=$(basename "$f" .csv); echo ".import --skip 1 $f $t"; done
} > "$OUT/ref.import"
START=$(date +%s%N)
sqlite3 "$OUT/ref.sqlite" < "$OUT/ref.import"
REF_S=$(python3 -c "print(round(($(date +%s%N) - $START) / 1e9, 2))")

RATIO=$(python3 -c "print(round($FUPIN_S / $REF_S, 2))")
echo
echo "persons:            $PERSONS"
echo "fupin import:       ${FUPIN_S} s, peak ${FUPIN_KB} KB"
echo "sqlite3 .import:    ${REF_S} s"
echo "ratio fupin/sqlite: ${RATIO} (goal <= 1.5)"
