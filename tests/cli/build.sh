#!/bin/sh
# SPDX-License-Identifier: MIT
# The build is honest: a change of compiler flags rebuilds (build/flags is
# rewritten and the objects depend on it), the same flags again rebuild
# nothing, and the shared test objects are not deleted as intermediate
# files (a bare `.SECONDARY:` once kept them, and also froze build/flags). Runs make on one object in a build folder of its own, with the
# enclosing make's variables cleared so that each CFLAGS is exactly as given.
. "$(dirname "$0")/lib.sh"
B="$T_TMP/b"

# mk ARGS...: make in the source tree; output in $T_OUT.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CFLAGS -u CC \
		make -C "$T_TOP" --no-print-directory BUILD="$B" "$@" >"$T_TMP/make.out" 2>&1
	T_STATUS=$?
	T_OUT=$(cat "$T_TMP/make.out")
}

mk CFLAGS=-O2 "$B/obj/error.o"
expect_status 0 "build one object with CFLAGS=-O2"
contains "$T_OUT" "CC      src/error.c" "it is compiled"
contains "$(cat "$B/flags" 2>/dev/null)" " -O2 " "build/flags records -O2"

mk CFLAGS=-O2 "$B/obj/error.o"
lacks "$T_OUT" "CC      src/error.c" "the same flags again: nothing is compiled"

mk CFLAGS=-O0 "$B/obj/error.o"
contains "$T_OUT" "CC      src/error.c" "CFLAGS=-O0: recompiled"
flags=$(cat "$B/flags" 2>/dev/null)
contains "$flags" " -O0 " "build/flags records -O0"
lacks "$flags" " -O2 " "build/flags no longer records -O2"

mk CFLAGS=-O0 "$B/obj/error.o"
lacks "$T_OUT" "CC      src/error.c" "CFLAGS=-O0 again: nothing is compiled"

mk CFLAGS=-O0 CC=gcc "$B/obj/error.o"
contains "$T_OUT" "CC      src/error.c" "CC=gcc: recompiled"

# Building one test program alone would not delete the shared test objects
# as intermediate files (asked of make -n: nothing is built).
mk -n CFLAGS=-O0 CC=gcc "$B/tests/test_datadir"
expect_status 0 "make -n one test program"
contains "$T_OUT" "tests/common/testutil.c" "it would build the shared test object"
lacks "$T_OUT" "rm $B/tests/common" "it would not remove it afterwards"
done_testing
