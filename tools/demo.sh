#!/usr/bin/env bash
# The demo: install what is missing, build, generate a scaled national day of
# synthetic ANPR traffic, ingest it, then print the store's stats and a dump
# of its segment and a few queries. ANPR_DEMO_READS sets the day's volume (default 3,000,000:
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

# A few queries, with a vehicle, a camera, a place and an hour taken from the day's first read.
IFS=, read -r ts plate camera _ _ _ lat lon < <(sed -n 2p "$csv")
hour=$((ts - ts % 3600000))
area=$(awk -v a="$lat" -v o="$lon" 'BEGIN { printf "%.4f,%.4f,%.4f,%.4f", a - 0.05, o - 0.08, a + 0.05, o + 0.08 }')
q() {
  echo
  echo "== anpr query $dir $* --limit 5"
  build/tools/anpr query "$dir" "$@" --limit 5
}
q --plate "$plate"                      # where has this vehicle been
q --plate "$plate" --fuzzy              # and under any misreading of O/0, I/1, B/8 ...
q --plate "${plate:0:2}??${plate:4}"    # a partial plate: two characters unknown
q --camera "$camera" --from "$hour" --to "$((hour + 3600000))"
q --area "$area" --from "$hour" --to "$((hour + 3600000))" --format json
