#!/usr/bin/env bash
# compare_anpr (libanpr's side of compare.sh) on a small store: for every
# shape, its answer holds as many reads as `anpr query` prints for the same
# query, and its digest is that of those reads' lines. compare_anpr itself
# fails when a timed run gives another answer than the untimed one.
#
#   compare_anpr_check.sh COMPARE_ANPR ANPR
set -euo pipefail
compare=$1 anpr=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$anpr" gen --reads-per-day 20000 --days 2 --seed 9 -o "$work/r.csv" >/dev/null
"$anpr" ingest "$work/store" "$work/r.csv" >/dev/null
# A plate, a camera and an hour from the data (the 100th read).
IFS=, read -r ts plate camera _ < <(sed -n 101p "$work/r.csv")
plate=$(tr -cd 'A-Za-z0-9' <<<"$plate" | tr a-z A-Z)
hour=$((ts - ts % 3600000))
min=-9223372036854775808 max=9223372036854775807
printf '%s\n' \
  "1	plate	$plate	0	-	-	$min	$max" \
  "2	plate_fuzzy	$plate	1	-	-	$min	$max" \
  "3	camera_hour	-	0	$camera	-	$hour	$((hour + 3600000))" \
  "4	area_hour	-	0	-	500000000,-50000000,560000000,20000000	$hour	$((hour + 3600000))" \
  "5	partial_day	${plate:0:2}??${plate:4}	0	-	-	$((ts - ts % 86400000))	$((ts - ts % 86400000 + 86400000))" \
  >"$work/queries.tsv"
"$compare" "$work/store" "$work/queries.tsv" 3 >"$work/answers.jsonl"

# The same queries through `anpr query`, and each answer's digest as compare_anpr takes it:
# the sum mod 2^64 of the FNV-1a hash of each read's line, lat/lon in 1e-7 degrees.
digest() {
  awk -F, 'NR > 1 {
      lat = $7 == "" ? "" : sprintf("%d", $7 * 1e7 + ($7 < 0 ? -0.5 : 0.5))
      lon = $8 == "" ? "" : sprintf("%d", $8 * 1e7 + ($8 < 0 ? -0.5 : 0.5))
      print $1 "," $2 "," $3 "," $4 "," $5 "," $6 "," lat "," lon
    }' | python3 -c '
import sys
total = 0
for line in sys.stdin:
    h = 0xcbf29ce484222325
    for b in line.rstrip("\n").encode():
        h = ((h ^ b) * 0x100000001b3) % 2**64
    total = (total + h) % 2**64
print("%016x" % total)'
}
check() {
  local id=$1
  shift
  "$anpr" query "$work/store" "$@" >"$work/q.csv"
  local want_count want_digest got
  want_count=$(($(wc -l <"$work/q.csv") - 1))
  want_digest=$(digest <"$work/q.csv")
  got=$(grep "^{\"id\":$id," "$work/answers.jsonl")
  if [[ $got != *"\"count\":$want_count,"* || $got != *"\"digest\":\"$want_digest\""* ]]; then
    echo "query $id: compare_anpr says $got; anpr query: $want_count reads, digest $want_digest" >&2
    exit 1
  fi
  echo "query $id: $want_count reads, digest $want_digest"
}
check 1 --plate "$plate"
check 2 --plate "$plate" --fuzzy
check 3 --camera "$camera" --from "$hour" --to $((hour + 3600000))
check 4 --area 50,-5,56,2 --from "$hour" --to $((hour + 3600000))
check 5 --plate "${plate:0:2}??${plate:4}" --from $((ts - ts % 86400000)) --to $((ts - ts % 86400000 + 86400000))
echo "5 passed, 0 failed"
