#!/bin/sh
# The installed static library: every object of the library linked into one
# relocatable object whose hidden symbols (all but the ANPR_API functions)
# are then made local, so that a program linking libanpr.a statically can
# never collide with, or be bound to, one of libanpr's internal names.
# usage: prelink_static.sh LIBANPR_INTERNAL.a OUT.a
set -eu
in=$1
out=$2
obj=$out.prelinked.o
rm -f "$obj" "$out"
ld -r --whole-archive "$in" -o "$obj"
objcopy --localize-hidden "$obj"
ar rcs "$out" "$obj"
rm -f "$obj"
