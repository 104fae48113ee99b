# SPDX-License-Identifier: MIT
# certpress — plain Makefile over pkg-config.
#
#   make            build libcertpress.a and the certpress command
#   make demo       render the shipped sample batch to out/sample.pdf
#   make test       build and run the whole test suite
#   make asan       the same suite under AddressSanitizer + UBSan
#   make valgrind   the command on the sample under Valgrind Memcheck
#   make install    install command, data and catalogues (PREFIX, DESTDIR)
#   make deps       install missing Debian packages and fonts (idempotent)
#   make golden     regenerate golden reference images on purpose
#   make fuzz       run every libFuzzer harness for a bounded time
#   make bench      benchmark (bench/README.md)
#   make fresh-check  the README's two commands in a bare Debian 12 root (docs/fresh-check.md)

PKGS     := cairo cairo-pdf cairo-png pangocairo pangoft2 harfbuzz fontconfig freetype2 \
            glib-2.0 libqrencode libpng libjpeg sqlite3 libcrypto zlib libdeflate libexif libzip expat freexl \
            libcbor
# Opened when a command first needs them (src/lazylib.h), not linked into the
# program: the PostgreSQL ledger, printing, verifying, the console. The build
# reads their headers, and the soname each development library names.
LAZY_PKGS := libpq zbar poppler-glib libmicrohttpd
CC       ?= cc
BUILD    ?= build
SRCDIR   := $(abspath .)
SAN      ?=

# Deferred and then cached: on a fresh machine pkg-config only answers after
# `deps` (an order-only prerequisite of every object) has installed the -dev
# packages, so these must not be expanded while the Makefile is read.
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(LAZY_PKGS)))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)
# libcups2-dev ships no .pc file: its own cups-config, deferred the same way.
CUPS_CFLAGS = $(eval CUPS_CFLAGS := $(shell cups-config --cflags))$(CUPS_CFLAGS)
CUPS_LIBS   = $(eval CUPS_LIBS := $(shell cups-config --libs))$(CUPS_LIBS)
# Tests call some of them directly (a test server's client, a decoder).
LAZY_LIBS   = $(eval LAZY_LIBS := $(shell pkg-config --libs $(LAZY_PKGS)) $(CUPS_LIBS))$(LAZY_LIBS)
soname = $(shell objdump -p "$$($(CC) -print-file-name=$(1))" 2>/dev/null | awk '$$1 == "SONAME" { print $$2 }')
SONAMES = $(eval SONAMES := -DCP_SONAME_PQ='"$(call soname,libpq.so)"' \
                            -DCP_SONAME_CUPS='"$(call soname,libcups.so)"' \
                            -DCP_SONAME_POPPLER='"$(call soname,libpoppler-glib.so)"' \
                            -DCP_SONAME_ZBAR='"$(call soname,libzbar.so)"' \
                            -DCP_SONAME_MHD='"$(call soname,libmicrohttpd.so)"')$(SONAMES)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter -Wformat=2 -Wno-format-nonliteral
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) -MMD -MP \
             -Isrc $(PKG_CFLAGS) $(CUPS_CFLAGS) $(SONAMES)
# Only tests and fuzz harnesses know where the source tree is; the program
# finds its data from its own location (src/datadir.c), so a copied or
# installed tree never reads this checkout.
TEST_DEFS = -DCP_TESTDIR='"$(SRCDIR)/tests"' -DCP_DATADIR='"$(SRCDIR)"' \
            -DCP_LOCALEDIR='"$(abspath $(BUILD))/locale"'
ALL_LDFLAGS = $(LDFLAGS) $(SAN)
LIBS     = $(PKG_LIBS) -lm -lpthread

# src/ is grouped by stage (docs/HACKING.md); scripts/check-layers.sh keeps
# the includes running one way. Everything but the command line is the library.
# The web console (src/console/) is a front end too, its page (assets/)
# embedded into the program by scripts/embed.sh.
CLI_SRC  := $(wildcard src/cli/*.c src/console/*.c)
LIB_SRC  := $(filter-out $(CLI_SRC),$(wildcard src/*.c src/*/*.c))
ALL_SRC  := $(LIB_SRC) $(CLI_SRC)
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/console/assets.o
ASSETS   := $(sort $(wildcard src/console/assets/*))
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_COMMON_SRC := $(wildcard tests/common/*.c)
TEST_COMMON_OBJ := $(TEST_COMMON_SRC:tests/common/%.c=$(BUILD)/tests/common/%.o)
PO       := $(wildcard po/*.po)
MO       := $(PO:po/%.po=$(BUILD)/locale/%/LC_MESSAGES/certpress.mo)

LIBRARY  := $(BUILD)/libcertpress.a
PROGRAM  := $(BUILD)/certpress

.PHONY: all deps demo install uninstall test check-tests asan valgrind golden fuzz bench bench-peers clean pot po-update
.PHONY: fuzz-build fuzz-bins fresh-check

all: $(PROGRAM) $(MO)

deps:
	@sh scripts/deps.sh

# Any change of compiler or flags rebuilds everything (the redis way).
$(BUILD)/flags: FORCE | deps
	@mkdir -p $(BUILD)
	@echo '$(CC) $(ALL_CFLAGS) $(TEST_DEFS) $(ALL_LDFLAGS) $(LIBS) $(LAZY_LIBS)' > $@.new
	@cmp -s $@.new $@ 2>/dev/null && rm -f $@.new || mv -f $@.new $@
# FORCE must stay an ordinary phony target: a bare `.SECONDARY:` (every target
# secondary) once made it intermediate, so build/flags was never rewritten and
# `make CFLAGS=-O0` rebuilt nothing.
.PHONY: FORCE
FORCE:

# V=1 shows whole command lines.
Q = $(if $(V),,@)
E = $(if $(V),@:,@echo)

$(BUILD)/obj/%.o: src/%.c $(BUILD)/flags
	@mkdir -p $(dir $@)
	$(E) "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/gen/assets.c: $(ASSETS) scripts/embed.sh
	@mkdir -p $(dir $@)
	$(E) "  EMBED   $@"
	$(Q)sh scripts/embed.sh $(ASSETS) >$@.new && mv -f $@.new $@

$(BUILD)/obj/console/assets.o: $(BUILD)/gen/assets.c $(BUILD)/flags
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
	$(Q)$(CC) $(ALL_CFLAGS) -Itests $(TEST_DEFS) -c $< -o $@

$(BUILD)/tests/%: tests/%.c $(LIBRARY) $(TEST_COMMON_OBJ) $(BUILD)/flags
	@mkdir -p $(dir $@)
	$(E) "  CCLD    $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Itests $(TEST_DEFS) $(ALL_LDFLAGS) \
		-o $@ $< $(TEST_COMMON_OBJ) $(LIBRARY) $(LIBS) $(LAZY_LIBS)

# Named here, the shared test objects are not intermediate files that make
# would delete after building one test program.
$(TEST_BIN): $(TEST_COMMON_OBJ)

check-tests: $(PROGRAM) $(MO) $(TEST_BIN)

test: check-tests
	@CERTPRESS=$(abspath $(PROGRAM)) BUILD=$(abspath $(BUILD)) sh tests/run.sh $(TEST_BIN) $(filter-out tests/cli/lib.sh tests/cli/ipp.sh tests/cli/serve-lib.sh,$(wildcard tests/cli/*.sh))

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

# golden: rewrites golden/*.png from the current code (the only thing that
# sets CERTPRESS_GOLDEN_UPDATE), then runs the whole golden test against the
# new references so that the PDF path is checked too. Review `git diff golden/`.
golden: $(BUILD)/tests/test_golden
	@CERTPRESS_GOLDEN_UPDATE=1 BUILD=$(abspath $(BUILD)) $(BUILD)/tests/test_golden -p /golden/png
	@BUILD=$(abspath $(BUILD)) $(BUILD)/tests/test_golden
	@echo "golden: references rewritten in $(abspath golden); review them with git diff"

# The demo keeps its own ledger under out/ (fresh each time), so that running
# it twice does not meet its own certificate numbers as already issued.
demo: $(PROGRAM) $(MO)
	@mkdir -p out
	@rm -f out/demo-ledger.sqlite out/demo-ledger.sqlite-wal out/demo-ledger.sqlite-shm
	$(PROGRAM) check --org templates/org.conf templates/sample/batch.csv
	$(PROGRAM) render --org templates/org.conf --ledger out/demo-ledger.sqlite \
		-o out/sample.pdf templates/sample/batch.csv
	@echo "demo: the sample batch is in $(abspath out/sample.pdf)"
	@echo "demo: its ledger, apart from yours, is $(abspath out/demo-ledger.sqlite):" \
		"$(PROGRAM) ledger report --ledger out/demo-ledger.sqlite"

# make install PREFIX=/usr/local DESTDIR=: the command, its data and its
# catalogues, laid out as src/datadir.c looks for them from the program's own
# place (PREFIX/bin/certpress reads PREFIX/share/certpress and
# PREFIX/share/locale), so the installed tree may be moved as a whole.
PREFIX    ?= /usr/local
DESTDIR   ?=
I_BIN     := $(DESTDIR)$(PREFIX)/bin
I_DATA    := $(DESTDIR)$(PREFIX)/share/certpress
I_LOCALE  := $(DESTDIR)$(PREFIX)/share/locale
I_TPL     := templates/certificate.conf templates/org.conf templates/seal.png
I_SAMPLE  := templates/sample/README.md templates/sample/batch.csv
I_PHOTOS  := $(sort $(wildcard templates/sample/photos/*.jpg))
LANGS     := $(PO:po/%.po=%)

# The fonts the manifest names by a relative path are in fonts/ once `deps`
# has run; the others are Debian's, read where the manifest says.
install: $(PROGRAM) $(MO) | deps
	install -d $(I_BIN) $(I_DATA)/fonts $(I_DATA)/templates/sample/photos
	install -m 755 $(PROGRAM) $(I_BIN)/certpress
	install -m 644 fonts/fonts.manifest $$(awk '$$1 !~ /^(#|\/)/ && NF { print "fonts/" $$1 }' \
		fonts/fonts.manifest) $(I_DATA)/fonts/
	install -m 644 $(I_TPL) $(I_DATA)/templates/
	install -m 644 $(I_SAMPLE) $(I_DATA)/templates/sample/
	install -m 644 $(I_PHOTOS) $(I_DATA)/templates/sample/photos/
	$(foreach l,$(LANGS),install -D -m 644 $(BUILD)/locale/$(l)/LC_MESSAGES/certpress.mo \
		$(I_LOCALE)/$(l)/LC_MESSAGES/certpress.mo;)
	@echo "install: $(I_BIN)/certpress, its data in $(I_DATA)"

uninstall:
	rm -f $(I_BIN)/certpress $(LANGS:%=$(I_LOCALE)/%/LC_MESSAGES/certpress.mo)
	rm -rf $(I_DATA)

# Message catalogue (po/README.md). The keywords here and in tests/test_i18n.c
# must agree: g_dngettext is the CLI's plural form.
pot:
	xgettext --from-code=UTF-8 --package-name=certpress -k_ -kN_ -kg_dngettext:2,3 \
		-o po/certpress.pot $(sort $(ALL_SRC))

po-update: pot
	msgmerge --quiet --update --backup=none po/zh_CN.po po/certpress.pot
	@msgfmt --check --statistics -o /dev/null po/zh_CN.po

# The newcomer's path, proved: a bare debootstrap root, a clone of HEAD, the
# README's two set-up commands exactly as written (needs root and the archive).
fresh-check:
	@bash scripts/fresh-check.sh

clean:
	rm -rf build build-asan build-fuzz out tests/out

# bench, bench-peers: bench/Makefile.inc (owned by the benchmark).
include bench/Makefile.inc

# ---- fuzz: libFuzzer harnesses (fuzz/README.md) --------------------------
# A target is built once its module (src/<stage>/<target>.c) is on the branch. The
# library is compiled into build-fuzz/ with fuzzer-no-link coverage and
# ASan+UBSan; each harness is linked with -fsanitize=fuzzer. `make fuzz` runs
# each for FUZZ_SECONDS on build-fuzz/corpus/<target> (seeded from
# fuzz/corpus/<target> and tests/data/fuzz-regress/<target>) and fails on
# any crash, leak, timeout or over-limit allocation, naming the reproducer.
FUZZ_ALL      := csv conf template profile rules image pdfupdate pdfjoin sign xlsx zrun qrtoken pngsig pdfsplit qr cffhead
FUZZ_TARGETS  := $(foreach t,$(FUZZ_ALL),$(if $(and $(wildcard src/*/$(t).c),$(wildcard fuzz/fuzz_$(t).c)),$(t)))
FUZZ_SECONDS  ?= 60
FUZZ_SAN      := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_MAXLEN_csv       := 70000
FUZZ_MAXLEN_conf      := 8192
FUZZ_MAXLEN_template  := 16384
FUZZ_MAXLEN_profile   := 16384
FUZZ_MAXLEN_rules     := 1024
FUZZ_MAXLEN_image     := 65536
FUZZ_MAXLEN_pdfupdate := 65536
FUZZ_MAXLEN_pdfjoin   := 65536
FUZZ_MAXLEN_sign      := 65536
FUZZ_MAXLEN_xlsx      := 65536
FUZZ_MAXLEN_zrun      := 65536
FUZZ_MAXLEN_qrtoken   := 4096
FUZZ_MAXLEN_pngsig    := 65536
FUZZ_MAXLEN_pdfsplit  := 131072
FUZZ_MAXLEN_qr        := 2048
FUZZ_MAXLEN_cffhead   := 4096
FUZZ_OPTS     = -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -print_final_stats=1

fuzz-build:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
		CFLAGS='-O1 -g -fno-omit-frame-pointer' SAN='$(FUZZ_SAN)' fuzz-bins

fuzz-bins: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c $(LIBRARY) $(BUILD)/flags
	@mkdir -p $(dir $@)
	$(E) "  CCLD    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_DEFS) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBRARY) $(LIBS)

fuzz: fuzz-build
	@fail=0; for t in $(FUZZ_TARGETS); do \
		c=build-fuzz/corpus/$$t; a=build-fuzz/artifacts/$$t; l=build-fuzz/logs/$$t.log; \
		mkdir -p $$c $$a build-fuzz/logs; \
		for s in fuzz/corpus/$$t/* tests/data/fuzz-regress/$$t/*; do \
			[ -f "$$s" ] && cp -f "$$s" $$c/; done; \
		maxlen=$$(for p in $(foreach t,$(FUZZ_ALL),$(t):$(FUZZ_MAXLEN_$(t))); do \
			case $$p in $$t:*) echo $${p#*:};; esac; done); \
		dict=; [ -f fuzz/$$t.dict ] && dict=-dict=fuzz/$$t.dict; \
		printf 'fuzz %-10s %ss ... ' $$t $(FUZZ_SECONDS); \
		if LSAN_OPTIONS=suppressions=$(SRCDIR)/tests/lsan.supp:print_suppressions=0 \
		   build-fuzz/fuzz/fuzz_$$t $$c -max_total_time=$(FUZZ_SECONDS) -max_len=$$maxlen \
		   $(FUZZ_OPTS) $$dict -artifact_prefix=$$a/ >$$l 2>&1; then \
			grep -E '^stat::number_of_executed_units' $$l | sed 's/.*: *//;s/$$/ runs, ok/'; \
		else \
			fail=1; echo "FAILED (log: $$l)"; \
			grep -E 'ERROR: |SUMMARY: |invariant broken|runtime error' $$l | head -5 | sed 's/^/    /'; \
			grep -E 'Test unit written to' $$l | sed 's/.*written to /    reproducer: /'; \
		fi; \
	done; exit $$fail

# The regression test replays the seeds and every crash ever found through
# the same harness code; it learns which targets exist from the same list.
$(BUILD)/tests/test_fuzz_regress: private ALL_CFLAGS += $(FUZZ_TARGETS:%=-DCP_FUZZ_HAVE_%)
# ... and is built again when that list changes (a target added), as
# $(BUILD)/flags makes everything else.
$(BUILD)/tests/test_fuzz_regress: $(BUILD)/fuzz-targets
$(BUILD)/fuzz-targets: FORCE
	@mkdir -p $(BUILD)
	@echo '$(FUZZ_TARGETS)' > $@.new
	@cmp -s $@.new $@ 2>/dev/null && rm -f $@.new || mv -f $@.new $@

-include $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%.d)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_COMMON_OBJ:.o=.d) $(TEST_BIN:=.d)
