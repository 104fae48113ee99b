# SPDX-License-Identifier: MIT
# certpress — plain Makefile over pkg-config.
#
#   make            build libcertpress.a and the certpress command
#   make demo       render the shipped sample batch to out/sample.pdf
#   make test       build and run the whole test suite
#   make asan       the same suite under AddressSanitizer + UBSan
#   make valgrind   the command on the sample under Valgrind Memcheck
#   make deps       install missing Debian packages and fonts (idempotent)
#   make golden     regenerate golden reference images on purpose
#   make fuzz       run every libFuzzer harness for a bounded time
#   make bench      benchmark (bench/README.md)

PKGS     := cairo cairo-pdf cairo-png pangocairo pangoft2 harfbuzz fontconfig \
            glib-2.0 libqrencode libpng libjpeg sqlite3
CC       ?= cc
BUILD    ?= build
SRCDIR   := $(abspath .)
SAN      ?=

# Deferred and then cached: on a fresh machine pkg-config only answers after
# `deps` (an order-only prerequisite of every object) has installed the -dev
# packages, so these must not be expanded while the Makefile is read.
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter -Wformat=2 -Wno-format-nonliteral
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) -MMD -MP \
             -DCP_DATADIR='"$(SRCDIR)"' -DCP_LOCALEDIR='"$(abspath $(BUILD))/locale"' \
             -Isrc $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN)
LIBS     = $(PKG_LIBS) -lm -lpthread

CLI_SRC  := src/main.c $(wildcard src/cli_*.c)
LIB_SRC  := $(filter-out $(CLI_SRC),$(wildcard src/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:src/%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_COMMON_SRC := $(wildcard tests/common/*.c)
TEST_COMMON_OBJ := $(TEST_COMMON_SRC:tests/common/%.c=$(BUILD)/tests/common/%.o)
PO       := $(wildcard po/*.po)
MO       := $(PO:po/%.po=$(BUILD)/locale/%/LC_MESSAGES/certpress.mo)

LIBRARY  := $(BUILD)/libcertpress.a
PROGRAM  := $(BUILD)/certpress

.PHONY: all deps demo test check-tests asan valgrind golden fuzz bench bench-peers clean pot

all: $(PROGRAM) $(MO)

deps:
	@sh scripts/deps.sh

# Any change of compiler or flags rebuilds everything (the redis way).
$(BUILD)/flags: FORCE | deps
	@mkdir -p $(BUILD)
	@echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIBS)' > $@.new
	@cmp -s $@.new $@ 2>/dev/null && rm -f $@.new || mv -f $@.new $@
FORCE:
.SECONDARY:

# V=1 shows whole command lines.
Q = $(if $(V),,@)
E = $(if $(V),@:,@echo)

$(BUILD)/obj/%.o: src/%.c $(BUILD)/flags
	@mkdir -p $(dir $@)
	$(E) "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBRARY): $(LIB_OBJ)
	@rm -f $@
	$(E) "  AR      $@"
	$(Q)ar rcs $@ $^

$(PROGRAM): $(CLI_OBJ) $(LIBRARY)
	$(E) "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIBRARY) $(LIBS)

$(BUILD)/locale/%/LC_MESSAGES/certpress.mo: po/%.po
	@mkdir -p $(dir $@)
	$(E) "  MSGFMT  $<"
	$(Q)msgfmt --check -o $@ $<

$(BUILD)/tests/common/%.o: tests/common/%.c $(BUILD)/flags
	@mkdir -p $(dir $@)
	$(E) "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -DCP_TESTDIR='"$(SRCDIR)/tests"' -c $< -o $@

$(BUILD)/tests/%: tests/%.c $(LIBRARY) $(TEST_COMMON_OBJ) $(BUILD)/flags
	@mkdir -p $(dir $@)
	$(E) "  CCLD    $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests -DCP_TESTDIR='"$(SRCDIR)/tests"' $(ALL_LDFLAGS) \
		-o $@ $< $(TEST_COMMON_OBJ) $(LIBRARY) $(LIBS)

check-tests: $(PROGRAM) $(MO) $(TEST_BIN)

test: check-tests
	@CERTPRESS=$(abspath $(PROGRAM)) BUILD=$(abspath $(BUILD)) sh tests/run.sh $(TEST_BIN) $(filter-out tests/cli/lib.sh,$(wildcard tests/cli/*.sh))

# Leaks inside fontconfig/Pango/GLib type registration are process-lifetime
# caches, not ours: tests/lsan.supp names them by function, never by library,
# so a leak of our own g_malloc'd memory is still reported. fontconfig is built
# without frame pointers: the fast unwinder stops inside it and the names the
# suppressions match are never seen, hence fast_unwind_on_malloc=0.
asan:
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:fast_unwind_on_malloc=0 \
	 LSAN_OPTIONS=suppressions=$(SRCDIR)/tests/lsan.supp:print_suppressions=0 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 $(MAKE) --no-print-directory BUILD=build-asan CC=clang CFLAGS='-O1 -g -fno-omit-frame-pointer' \
		SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' test

# The command on the shipped sample (check, render PDF, PNG preview, a
# refused row) under Valgrind Memcheck: any memory error or definite leak
# fails. tests/valgrind.supp names the libraries' process-lifetime
# allocations by function, like tests/lsan.supp.
valgrind: $(PROGRAM) $(MO)
	@sh tests/valgrind.sh $(abspath $(PROGRAM))

# The demo keeps its own ledger under out/ (fresh each time), so that running
# it twice does not meet its own certificate numbers as already issued.
demo: $(PROGRAM) $(MO)
	@mkdir -p out
	@rm -f out/demo-ledger.sqlite out/demo-ledger.sqlite-wal out/demo-ledger.sqlite-shm
	$(PROGRAM) check --org templates/org.conf templates/sample/batch.csv
	$(PROGRAM) render --org templates/org.conf --ledger out/demo-ledger.sqlite \
		-o out/sample.pdf templates/sample/batch.csv
	@echo "demo: the sample batch is in $(abspath out/sample.pdf)"

pot:
	xgettext --from-code=UTF-8 -k_ -kN_ -o po/certpress.pot src/*.c

clean:
	rm -rf build build-asan build-fuzz out tests/out

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_COMMON_OBJ:.o=.d) $(TEST_BIN:=.d)
