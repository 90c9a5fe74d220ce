#!/usr/bin/env bash
# The side-by-side comparison: one generated CSV loaded into libanpr (through
# `anpr ingest`), DuckDB (a table with an index on plate, and daily Parquet
# files with zstd) and SQLite (a table with indexes on plate, camera and
# time); the same queries asked of each; every answer checked to be the same
# reads; each figure printed with the ratio libanpr / peer. Figures go to
# WORK/compare.json as well.
#
#   bench/compare/compare.sh [--reads-per-day N] [--days D] [--queries Q] [--repeats R] [--work DIR] [--reuse]
#
# Defaults: 100,000 reads a day for 30 days, 20 queries of each shape, each
# timed 5 times (warm cache) after an untimed run; WORK /var/tmp/anpr-compare.
# --reuse: WORK already holds a whole run's loaded engines; ask them the
# queries again (and report them with that run's load figures) without
# generating and loading anew, which takes most of a run's time.
# The peers are installed from the npm registry into bench/compare/node_modules
# (they are not dependencies of the library).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
reads_per_day=100000 days=30 queries=20 repeats=5 work=/var/tmp/anpr-compare reuse=0
while [ $# -gt 0 ]; do
  case $1 in
    --reads-per-day) reads_per_day=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --queries) queries=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --reuse) reuse=1; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
  esac
done

step() { echo; echo "== $*"; }

step "build (release) and install the peers"
"$root/tools/deps.sh"
command -v npm >/dev/null || { echo "compare.sh: needs Node.js and npm"; exit 1; }
[ -f "$root/build-rel/build.ninja" ] || meson setup "$root/build-rel" --buildtype=release -Dtests=disabled >/dev/null
meson compile -C "$root/build-rel" >/dev/null
(cd "$here" && npm install --no-audit --no-fund --loglevel=error >/dev/null)

mkdir -p "$work"
csv=$work/reads.csv
if [ "$reuse" = 1 ]; then
  for f in anpr/MANIFEST anpr-load.json peers-load.json duck.db sqlite.db parquet; do
    [ -e "$work/$f" ] || { echo "compare.sh: --reuse: $work/$f is missing: run without --reuse first" >&2; exit 1; }
  done
  step "reuse the engines loaded in $work"
else
  step "generate $days days of $reads_per_day reads up to yesterday -> $csv"
  # Days that end before today: reads in the future are refused, as they should be.
  start=$(date -u -d "-$((days + 1)) days" +%F)
  "$root/build-rel/tools/anpr" gen --reads-per-day "$reads_per_day" --days "$days" --seed 7 --start "$start" -o "$csv"

  step "libanpr: anpr ingest"
  rm -rf "$work/anpr"
  t0=$(date +%s%N)
  "$root/build-rel/tools/anpr" ingest "$work/anpr" "$csv"
  t1=$(date +%s%N)
  stats=$("$root/build-rel/tools/anpr" stats "$work/anpr")
  echo "$stats"
  stored=$(awk '$1 == "reads:" { print $2 }' <<<"$stats")
  bytes=$(du -sb "$work/anpr" | cut -f1)
  machine="$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/ { print $2 }') GiB, $(uname -sr)"
  printf '{"reads": %s, "days": %s, "ingest_ms": %s, "bytes": %s, "machine": "%s"}\n' \
    "$stored" "$days" "$(( (t1 - t0) / 1000000 ))" "$bytes" "$machine" >"$work/anpr-load.json"

  step "DuckDB and SQLite: load the same CSV"
  node "$here/peers.mjs" load "$work" "$csv"
fi

step "queries: $queries of each shape"
node "$here/peers.mjs" queries "$work" "$queries" 42

step "run the queries ($repeats timed runs each)"
"$root/build-rel/bench/compare_anpr" "$work/anpr" "$work/queries.tsv" "$repeats" >"$work/anpr.jsonl"
for e in duckdb-table duckdb-parquet sqlite; do
  echo "  $e"
  node "$here/peers.mjs" run "$work" "$e" "$repeats" >"$work/$e.jsonl"
done

step "report"
node "$here/peers.mjs" report "$work"
