#!/bin/sh
# The library exports exactly the functions the public headers declare with
# ANPR_API: nothing internal leaks, nothing declared is missing. For the
# shared library, its dynamic symbols; for the static one, every global
# symbol its objects define (data included: none may be left).
# usage: check_exports.sh LIBANPR.so|LIBANPR.a INCLUDE_DIR
set -eu
lib=$1
inc=$2
case $lib in
  *.a) exported=$(nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort -u) ;;
  *) exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u) ;;
esac
declared=$(sed -n 's/^ANPR_API[^(]*[ *]\(anpr_[a-z0-9_]*\)(.*/\1/p' "$inc"/anpr/*.h | sort -u)
if [ "$exported" = "$declared" ]; then
  echo "1 passed, 0 failed ($(echo "$exported" | wc -l) symbols exported, all declared)"
  exit 0
fi
echo "declared (<) and exported (>) differ:"
echo "$exported" > /tmp/anpr-exported.$$; echo "$declared" > /tmp/anpr-declared.$$
diff /tmp/anpr-declared.$$ /tmp/anpr-exported.$$ || true
rm -f /tmp/anpr-exported.$$ /tmp/anpr-declared.$$
echo "0 passed, 1 failed"
exit 1
