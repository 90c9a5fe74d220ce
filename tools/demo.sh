#!/usr/bin/env bash
# The demo: install what is missing, build, generate a scaled national day of
# synthetic ANPR traffic, ingest it, then print the store's stats and a dump
# of its segment. ANPR_DEMO_READS sets the day's volume (default 3,000,000:
# 1/20 of the national 60 M); ANPR_DEMO_DIR where the store goes.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh

if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release >/dev/null
fi
meson compile -C build >/dev/null

reads=${ANPR_DEMO_READS:-3000000}
dir=${ANPR_DEMO_DIR:-demo-store}
csv=$dir.csv
rm -rf "$dir" "$csv"

echo "== generating a synthetic day of $reads reads (1/$((60000000 / reads)) of national volume) -> $csv"
time build/tools/anpr gen --reads-per-day "$reads" --seed 1 -o "$csv"
head -4 "$csv"

echo
echo "== ingesting into $dir (commit every 100,000 reads, then merge into the daily segment)"
time build/tools/anpr ingest "$dir" "$csv"

echo
echo "== anpr stats $dir"
build/tools/anpr stats "$dir"

echo
echo "== anpr-dump --verify --rows 5 $dir"
build/tools/anpr-dump --verify --rows 5 "$dir"
