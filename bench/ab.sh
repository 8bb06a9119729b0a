#!/usr/bin/env bash
# Before/after on the same data: two fupin binaries (e.g. a release build of an older
# commit and of this one) import the same generated county into SQLite and run the same
# check on fresh copies of their registries, alternated ROUNDS times, so that both sides
# meet the same machine load. Prints each time and the check's last line (same findings).
#   bench/ab.sh OLD_BINARY NEW_BINARY [HOUSEHOLDS] [ROUNDS]
# e.g. git worktree add /tmp/old f5e02a8 && (cd /tmp/old && cargo build --release -p fupin)
set -euo pipefail
OLD="${1:?用法：bench/ab.sh 旧版程序 新版程序 [户数] [轮数]}"
NEW="${2:?用法：bench/ab.sh 旧版程序 新版程序 [户数] [轮数]}"
N="${3:-30000}"
ROUNDS="${4:-3}"
OUT="bench/out/ab"; rm -rf "$OUT"; mkdir -p "$OUT"
SETS=(--set dq --set exit --set monitoring --set eligibility)
FILES=(households helpers persons incomes village_years pairings)
"$NEW" generate --households "$N" --seed 7 --faults $((N / 100)) --out "$OUT/files" --today 2026-11-27 >/dev/null 2>&1
paths=(); for f in "${FILES[@]}"; do paths+=("$OUT/files/$f.csv"); done
now() { date +%s.%N; }
for round in $(seq 1 "$ROUNDS"); do
  for v in old new; do
    BIN=$OLD; [ "$v" = new ] && BIN=$NEW
    rm -rf "$OUT/$v"; "$BIN" init --data "$OUT/$v" --admin admin --admin-password 'Bench-pass-2026!' >/dev/null 2>&1
    s=$(now); "$BIN" import --data "$OUT/$v" "${paths[@]}" >/dev/null 2>&1; e=$(now)
    printf '%s round %s: import %.2f s' "$v" "$round" "$(echo "$e - $s" | bc)"
    s=$(now); "$BIN" check --data "$OUT/$v" --today 2026-11-27 "${SETS[@]}" > "$OUT/$v.check" 2>&1; e=$(now)
    printf ', check %.2f s (%s)\n' "$(echo "$e - $s" | bc)" "$(grep -c . "$OUT/$v.check") lines of output"
  done
done
