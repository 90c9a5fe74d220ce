#!/usr/bin/env bash
# Install what a fresh Debian machine lacks to build and test libanpr.
# Idempotent: packages already present are left alone.
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc g++ libzstd-dev liburing-dev libxxhash-dev check libbenchmark-dev)
# --fuzz: also clang and its runtime, for the libFuzzer programs that tools/test.sh runs briefly.
[ "${1:-}" = "--fuzz" ] && pkgs+=(clang libclang-rt-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
