# SPDX-License-Identifier: MIT
# memprof: a heap and leak profiler for Linux. Plain make; see README.md.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
BUILD   ?= build
OPT     ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wundef -Wpointer-arith
VERSION := $(shell sed -n 's/^\#define MP_VERSION "\(.*\)"/\1/p' src/cli.h)
# The project's own flags. The user's CPPFLAGS, CFLAGS, CXXFLAGS and LDFLAGS (on the command
# line or in the environment) come after them on every compile and link, so that
# `make CFLAGS=-O0` changes the optimisation and keeps -std, the include paths and the
# dependency files.
MP_CPPFLAGS := -D_GNU_SOURCE -Isrc -Ipreload
MP_CFLAGS    = -std=gnu11 $(OPT) $(WARN) -MMD -MP
# CI (which sets CI=true) builds with -Werror.
ifneq ($(CI),)
WERROR ?= 1
endif
ifeq ($(WERROR),1)
MP_CFLAGS   += -Werror
endif
ALL_CFLAGS   = $(MP_CPPFLAGS) $(MP_CFLAGS) $(CPPFLAGS) $(CFLAGS)
# Test programs and samples: fixed, light optimisation (reports name their lines), with
# dependency files too.
PROG_CFLAGS  = -std=gnu11 -O1 -g -Wall -MMD -MP $(CPPFLAGS) $(CFLAGS)
PROG_CXXFLAGS = -std=gnu++17 -O1 -g -Wall -MMD -MP $(CPPFLAGS) $(CXXFLAGS)

DEB_PACKAGES := libunwind-dev zlib1g-dev uthash-dev libdw-dev
# Programs the real-program tests and make bench run (tests skip when one is missing);
# clang and its libFuzzer runtime for make fuzz and the short fuzz test.
TEST_PACKAGES := sqlite3 jq git perl python3 valgrind heaptrack time clang libclang-rt-14-dev pkgconf

PRELOAD_SRC := $(wildcard preload/*.c)
PRELOAD_OBJ := $(PRELOAD_SRC:preload/%.c=$(BUILD)/preload/%.o)
CLI_SRC     := $(wildcard src/*.c)
CLI_OBJ     := $(CLI_SRC:src/%.c=$(BUILD)/src/%.o)

# The preload library: hidden visibility, its own copies of libunwind and zlib symbols kept
# out of the host's namespace, initial-exec TLS only.
# LTO lets the hooks inline the table and counter code across files (about 10% of churn).
PRELOAD_CFLAGS := -fPIC -fvisibility=hidden -ftls-model=initial-exec -fno-omit-frame-pointer \
	-flto=auto -ffat-lto-objects
PRELOAD_LIBS   := -lz -ldl -lpthread
CLI_LIBS       := -lz -ldw -lelf -Wl,--push-state,--no-as-needed -lstdc++ -Wl,--pop-state

.PHONY: all check check-build demo deps bench asan tsan ubsan soak debug install uninstall clean \
	samples fuzz fuzz-build fuzz-suppressions
all: $(BUILD)/libmemprof.so $(BUILD)/memprof

$(BUILD)/preload/%.o: preload/%.c | $(BUILD)/preload
	$(CC) $(ALL_CFLAGS) $(PRELOAD_CFLAGS) -c $< -o $@
$(BUILD)/src/%.o: src/%.c | $(BUILD)/src
	$(CC) $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/preload $(BUILD)/src $(BUILD)/tests $(BUILD)/samples $(BUILD)/tools $(BUILD)/fuzz:
	mkdir -p $@

$(BUILD)/libmemprof.so: $(PRELOAD_OBJ) preload/libmemprof.map
	$(CC) -shared $(OPT) -flto=auto $(LDFLAGS) -o $@ $(PRELOAD_OBJ) -Wl,--version-script=preload/libmemprof.map \
		-Wl,--exclude-libs,ALL -Wl,-z,now $(PRELOAD_LIBS)
$(BUILD)/memprof: $(CLI_OBJ)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(CLI_LIBS)

# Programs the tests and samples run: each its own binary.
SAMPLE_SRC := $(wildcard samples/*.c)
SAMPLE_CXX_SRC := $(wildcard samples/*.cc)
SAMPLES    := $(SAMPLE_SRC:samples/%.c=$(BUILD)/samples/%) \
	$(SAMPLE_CXX_SRC:samples/%.cc=$(BUILD)/samples/%) $(BUILD)/samples/libleaky-plugin.so
samples: $(SAMPLES)
$(BUILD)/samples/%: samples/%.c | $(BUILD)/samples
	$(CC) $(PROG_CFLAGS) -fno-omit-frame-pointer -Isrc -Iinclude $(LDFLAGS) -o $@ $< -ldl -lpthread
$(BUILD)/samples/%: samples/%.cc | $(BUILD)/samples
	$(CXX) $(PROG_CXXFLAGS) -fno-omit-frame-pointer $(LDFLAGS) -o $@ $<
$(BUILD)/samples/libleaky-plugin.so: samples/plugin/leaky-plugin.c | $(BUILD)/samples
	$(CC) $(PROG_CFLAGS) -fno-omit-frame-pointer -fPIC -shared $(LDFLAGS) -o $@ $<

# Test binaries sit flat in $(BUILD)/tests (their names are unique): the unit tests from
# tests/unit/, the programs the scenario scripts run from tests/progs/.
TEST_C_SRC := $(wildcard tests/unit/*.c tests/progs/*.c)
TEST_CXX_SRC := $(wildcard tests/progs/*.cc)
TEST_BINS  := $(patsubst %.c,$(BUILD)/tests/%,$(notdir $(TEST_C_SRC))) \
	$(patsubst %.cc,$(BUILD)/tests/%,$(notdir $(TEST_CXX_SRC)))
# Unit tests link the preload objects they test directly (no LD_PRELOAD), from an archive so
# that only the objects a test needs come in. Every object but the files that interpose the C
# library's functions (the tests keep the C library's): the hooks and the life cycle.
$(BUILD)/libmp-units.a: $(filter-out $(BUILD)/preload/hooks.o $(BUILD)/preload/signal_hooks.o \
		$(BUILD)/preload/lifecycle.o $(BUILD)/preload/exec.o,$(PRELOAD_OBJ))
	rm -f $@ && ar rcs $@ $^
$(BUILD)/tests/unit-%: tests/unit/unit-%.c $(BUILD)/libmp-units.a | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmp-units.a $(PRELOAD_LIBS)
# Test-only snapshot printer: the CLI's reader, nothing else.
$(BUILD)/tests/snapshot-sections: tests/progs/snapshot-sections.c $(BUILD)/src/snapshot_read.o | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/src/snapshot_read.o -lz
$(BUILD)/tests/prog-%: tests/progs/prog-%.cc | $(BUILD)/tests
	$(CXX) $(PROG_CXXFLAGS) $(LDFLAGS) -o $@ $<
$(BUILD)/tests/prog-%: tests/progs/prog-%.c | $(BUILD)/tests
	$(CC) $(PROG_CFLAGS) -Isrc $(LDFLAGS) -o $@ $< -ldl -lpthread
$(BUILD)/tests/%: tests/progs/%.c | $(BUILD)/tests
	$(CC) $(PROG_CFLAGS) -Isrc $(LDFLAGS) -o $@ $< -ldl -lpthread

# check-build: everything make check runs, built and not run.
check-build: all samples $(TEST_BINS)
check: check-build
	@BUILD=$(BUILD) tests/run-tests.sh

# libFuzzer target for the snapshot reader and the report printers, with ASan and UBSan
# (clang; runtime from libclang-rt-14-dev). New inputs go to $(BUILD)/fuzz/corpus and
# crashes to $(BUILD)/fuzz/artifacts, never into tests/fuzz-corpus (the committed seeds).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_CFLAGS  := -std=gnu11 -O1 -g -fno-omit-frame-pointer -D_GNU_SOURCE -Isrc $(WARN) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_SRC := $(filter-out src/main.c,$(CLI_SRC))
# One target per tests/torture/fuzz-NAME.c, each linked with every CLI source but main.c.
$(BUILD)/fuzz/fuzz-%: tests/torture/fuzz-%.c $(FUZZ_LIB_SRC) $(wildcard src/*.h) | $(BUILD)/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRC) $(CLI_LIBS)
fuzz-build: $(BUILD)/fuzz/fuzz-snapshot-reader $(BUILD)/fuzz/fuzz-suppressions
fuzz: $(BUILD)/fuzz/fuzz-snapshot-reader
	mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/artifacts
	$< -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(BUILD)/fuzz/artifacts/ \
		$(BUILD)/fuzz/corpus tests/fuzz-corpus
# The suppression-file reader and matcher, with its own corpus and seeds.
fuzz-suppressions: $(BUILD)/fuzz/fuzz-suppressions
	mkdir -p $(BUILD)/fuzz/corpus-suppressions $(BUILD)/fuzz/artifacts
	$< -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(BUILD)/fuzz/artifacts/ \
		$(BUILD)/fuzz/corpus-suppressions tests/fuzz-corpus-suppressions

# The torture scenarios under the preload, over and over for SOAK_SECONDS, each run compared
# with its bare run and its snapshots checked; prints a table of runs and failures. Then the
# threaded leak cases, each SOAK_LEAK_REPEAT times against memcheck's figures.
SOAK_SECONDS ?= 600
SOAK_LEAK_REPEAT ?= 200
soak: all samples $(TEST_BINS)
	SOAK_SECONDS=$(SOAK_SECONDS) BUILD=$(BUILD) tools/soak.sh
	REPEAT=$(SOAK_LEAK_REPEAT) TEST_TIMEOUT=7200 BUILD=$(BUILD) tests/run-tests.sh \
		tests/preload/test-preload-leak-threads-match-memcheck-every-run.sh

deps:
	@missing=""; for p in $(DEB_PACKAGES) $(TEST_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: all present ($(DEB_PACKAGES) $(TEST_PACKAGES))"; fi

demo: deps
	$(MAKE) all samples
	cd $(BUILD) && MEMPROF_OUTPUT=demo.%p.gz ./memprof run -- ./samples/leaky-parser
	$(BUILD)/memprof report $$(ls -t $(BUILD)/demo.*.gz | head -1)

bench: all
	tools/bench.sh

debug:
	$(MAKE) OPT="-O0 -g3 -DMP_DEBUG" BUILD=build-debug all
# The CLI and the unit tests (the tables, linked from the preload objects) with ASan and
# UBSan, then the unit tests and the CLI tests that need no profiled run, run with them.
SAN_UNITS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/*.c))
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
asan:
	$(MAKE) OPT="-O1 -g $(ASAN_FLAGS)" CLI_LIBS="$(CLI_LIBS) $(ASAN_FLAGS)" \
		PRELOAD_LIBS="$(PRELOAD_LIBS) $(ASAN_FLAGS)" BUILD=$(BUILD)-asan \
		$(BUILD)-asan/memprof $(BUILD)-asan/tests/mksnap $(SAN_UNITS:%=$(BUILD)-asan/tests/%)
	BUILD=$(BUILD)-asan tests/run-tests.sh $(SAN_UNITS:%=$(BUILD)-asan/tests/%) \
		$$(grep -L -e LIBMEMPROF -e 'profile ' -e libmemprof -e fuzz -e '" run' tests/cli/test-cli-*.sh tests/cli/test-report-*.sh)
# The unit tests under ThreadSanitizer (clang): the tables and counters are lock-free C11 atomics.
TSAN_CC ?= clang
tsan:
	$(MAKE) CC=$(TSAN_CC) WERROR=0 OPT="-O1 -g -fsanitize=thread" BUILD=$(BUILD)-tsan \
		PRELOAD_CFLAGS="-fPIC -fvisibility=hidden -ftls-model=initial-exec -fno-omit-frame-pointer" \
		PRELOAD_LIBS="$(PRELOAD_LIBS) -fsanitize=thread" $(SAN_UNITS:%=$(BUILD)-tsan/tests/%)
	TSAN_OPTIONS="halt_on_error=1 $(TSAN_OPTIONS)" BUILD=$(BUILD)-tsan tests/run-tests.sh \
		$(SAN_UNITS:%=$(BUILD)-tsan/tests/%)
# The preload library cannot run under ASan or TSan (their runtimes interpose malloc, as it
# does), but UBSan only adds checks: libmemprof.so, the CLI and the unit tests built with it
# (-fno-sanitize-recover: the first report aborts), then the unit tests and a set of preload
# scenarios (fork, exec, threads, signals, leak checks, periodic snapshots) run with it. Tests
# that compare exact byte or block counts are left out: the UBSan runtime allocates too.
UBSAN_FLAGS := -fsanitize=undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# 14 scenarios; the old branch's three slowest (fatal-signal-snapshots, fork-while-threads-allocate,
# leak-nine-cases-match-memcheck: 28 s of its 45 s) left out to keep make check near 10 minutes
# on 2 cores; their paths are covered by the caught fault, the exit from a handler, the fork
# child and the leak cycles below.
UBSAN_TESTS := unit \
	test-preload-fork-child-gets-own-snapshot test-preload-vfork-child-exit-leaves-parent-profiled \
	test-preload-threads-cross-thread-frees test-preload-caught-fault-in-free-recording-resumes \
	test-preload-exit-from-handler-inside-profiler test-preload-interval-snapshots-numbered-and-valid \
	test-preload-sigkill-leaves-last-periodic-snapshot test-preload-snapshot-totals-agree-while-threads-run \
	test-preload-leak-cycles-and-trees-match-memcheck test-preload-trace-cache-matches-fresh-unwind \
	test-preload-dlopen-dlclose-module-recorded test-preload-small-stacks-work-as-bare \
	test-torture-thread-storm-cross-thread-frees test-torture-allocator-returns-null
ubsan:
	$(MAKE) OPT="-O1 -g $(UBSAN_FLAGS)" CLI_LIBS="$(CLI_LIBS) $(UBSAN_FLAGS)" BUILD=$(BUILD)-ubsan \
		check-build
	UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1 $(UBSAN_OPTIONS)" BUILD=$(BUILD)-ubsan \
		tests/run-tests.sh $(UBSAN_TESTS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man3 \
		$(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BUILD)/memprof $(DESTDIR)$(PREFIX)/bin/memprof
	install -m 755 $(BUILD)/libmemprof.so $(DESTDIR)$(PREFIX)/lib/libmemprof.so
	install -m 644 include/memprof.h $(DESTDIR)$(PREFIX)/include/memprof.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' memprof.pc.in >$(DESTDIR)$(PREFIX)/lib/pkgconfig/memprof.pc
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 man/*.3 $(DESTDIR)$(PREFIX)/share/man/man3/
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/memprof $(DESTDIR)$(PREFIX)/lib/libmemprof.so \
		$(DESTDIR)$(PREFIX)/include/memprof.h $(DESTDIR)$(PREFIX)/lib/pkgconfig/memprof.pc \
		$(DESTDIR)$(PREFIX)/share/man/man1/memprof.1 $(DESTDIR)$(PREFIX)/share/man/man5/memprof-snapshot.5 \
		$(DESTDIR)$(PREFIX)/share/man/man3/libmemprof.3

clean:
	rm -rf $(BUILD) build-debug $(BUILD)-asan $(BUILD)-tsan $(BUILD)-ubsan

# Every object's and program's dependency file, so that nothing stays stale after a header
# changes.
-include $(wildcard $(BUILD)/*/*.d)
