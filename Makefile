# gua: a plain GNU Makefile. `make demo` and `make check` are the contract.
#   make SANITIZE=1 check   builds in build/sanitize with ASan and UBSan
#   make CI=true ...        turns warnings into errors

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
# systemd's unit directory: /usr/lib/systemd/system on Debian with
# PREFIX=/usr; give SYSTEMDUNITDIR= (empty) to install no unit.
SYSTEMDUNITDIR	?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR	?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR	?= $(PREFIX)/share/zsh/vendor-completions
# The unit's user, for systemd-sysusers; installed with the unit.
SYSUSERSDIR	?= $(PREFIX)/lib/sysusers.d
DESTDIR	?=

CC	?= cc
CFLAGS	?= -O2 -g
WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wcast-qual
ifeq ($(CI),true)
WARN	+= -Werror
endif

SQLITE_CFLAGS	:= $(shell pkg-config --cflags sqlite3)
SQLITE_LIBS	:= $(shell pkg-config --libs sqlite3)
# gua top's full screen (libncurses-dev): only its header at build time,
# as gua top loads the library (dlopen) and nothing else carries it.
CURSES_CFLAGS	:= $(shell pkg-config --cflags ncursesw)
# daemon --listen's HTTP server (libmicrohttpd-dev): optional, so a host
# without it still builds gua, whose --listen then says what is missing.
# MICROHTTPD=no builds without it even where it is installed. Only its
# header is used at build time: --listen loads the library (dlopen), so
# that a collector without --listen does not carry it and GnuTLS.
ifneq ($(MICROHTTPD),no)
ifeq ($(shell pkg-config --exists libmicrohttpd && echo yes),yes)
MHD_CFLAGS	:= $(shell pkg-config --cflags libmicrohttpd) -DHAVE_MICROHTTPD
endif
endif

ifeq ($(SANITIZE),1)
BUILD	:= build/sanitize
SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer
GUA	:= $(BUILD)/gua
else
BUILD	:= build/release
SAN	:=
GUA	:= gua
endif

# Quiet by default; `make V=1` shows every command.
ifeq ($(V),1)
Q	:=
else
Q	:= @
endif

# CPPFLAGS as dpkg-buildflags gives them (-D_FORTIFY_SOURCE) for make deb.
ALL_CFLAGS	= -std=c11 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) $(CFLAGS) $(SAN) \
		  $(SQLITE_CFLAGS) $(MHD_CFLAGS) -pthread -MMD -MP
LDLIBS		= $(SQLITE_LIBS) -pthread -ldl -lm

SRC	:= $(wildcard src/*.c)
# The modules a running collector executes are linked first, the rest
# after them in name order. The kernel maps a program's pages up to
# 64 KiB around each page it faults in, so a collector whose code is
# spread over all of gua's 250 KiB of text has all of it resident: linked
# together, 148-164 KiB (the 8 x 8 collector of make bench). A name here
# that is no module fails the build.
COLLECTOR_MODULES := main collector cmd-daemon cmd nvml source-nvml \
	identity putil tick tick-print store-write store-pack store-procs \
	proc-pack store \
	store-file outfile pidfile rollup energy classify label log util \
	grow imap escape duration notify
COLLECTOR_OBJ := $(COLLECTOR_MODULES:%=$(BUILD)/src/%.o)
OBJ	:= $(COLLECTOR_OBJ) \
	   $(filter-out $(COLLECTOR_OBJ),$(SRC:src/%.c=$(BUILD)/src/%.o))
LIBOBJ	:= $(filter-out $(BUILD)/src/main.o,$(OBJ))

UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# The CLI tests' way to the packed identities (tests/unit/procs-sql.c).
PROCS_SQL := $(BUILD)/tests/procs-sql

# The fake NVML the tests load instead of NVIDIA's, in four symbol sets.
# Built without sanitizers: an ASan gua dlopens it like any library.
FAKE_DIR  := $(BUILD)/fake-nvml
FAKE_LIBS := $(addprefix $(FAKE_DIR)/,libnvidia-ml.so.1 \
	     libnvidia-ml-no-v3.so.1 libnvidia-ml-r535.so.1 \
	     libnvidia-ml-old.so.1)


# The benchmark: a workload generator, a runner, and the histories it
# generates, kept in build/bench and written again only when what writes
# them changed.
BENCH_OBJ	:= $(BUILD)/bench/workload.o $(BUILD)/bench/gua-bench-gen.o \
		   $(BUILD)/bench/gua-bench-run.o
BENCH_GEN	:= $(BUILD)/bench/gua-bench-gen
BENCH_RUN	:= $(BUILD)/bench/gua-bench-run
BENCH_DIR	:= build/bench
# What writes them is found, not listed: the generator's source and what
# it reads, by its .d file, and for each header the .c beside it (store.h:
# every store*.c) with what that reads in turn, until nothing new comes.
# Before the first build there are no .d files and no histories either.
dfile_reads	= $(filter-out %: \,$(foreach d,$(wildcard $1),$(file <$d)))
beside_h	= $(wildcard $(patsubst %.h,%.c,$(filter %.h,$1)) \
		  $(if $(filter src/store.h,$1),src/store*.c))
reach		= $(call reach_more,$1,$(sort $1 $(foreach c,$(call beside_h,$1),\
		  $c $(call dfile_reads,$(c:%.c=$(BUILD)/%.d)))))
reach_more	= $(if $(filter-out $1,$2),$(call reach,$2),$1)
BENCH_WRITES	:= $(call reach,bench/gua-bench-gen.c \
		   $(call dfile_reads,$(BUILD)/bench/gua-bench-gen.d))
BENCH_DBS	:= $(BENCH_DIR)/lab12.db $(BENCH_DIR)/year8.db \
		   $(BENCH_DIR)/churn.db $(BENCH_DIR)/lab12-old.db \
		   $(BENCH_DIR)/hosts/host-100.db

.PHONY: all check lint torture demo bench fuzz install uninstall installcheck \
	deb deb-check clean

all: $(GUA)

$(GUA): $(OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

# Only the full screen of gua top knows curses.
$(BUILD)/src/top-screen.o: OBJ_CFLAGS := $(CURSES_CFLAGS)

$(BUILD)/src/%.o: src/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(OBJ_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/harness.h $(LIBOBJ)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -Isrc -Ibench $(LDFLAGS) -o $@ $< \
	    $(filter %.o,$^) $(LDLIBS)

# The report test checks rollups against raw ticks on a generated history.
$(BUILD)/tests/test-report: $(BUILD)/bench/workload.o

$(BUILD)/bench/%.o: bench/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -Isrc -c -o $@ $<

$(BENCH_GEN): $(BUILD)/bench/gua-bench-gen.o $(BUILD)/bench/workload.o \
    $(LIBOBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BENCH_RUN): $(BUILD)/bench/gua-bench-run.o
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

$(BENCH_DIR)/lab12.db $(BENCH_DIR)/year8.db $(BENCH_DIR)/churn.db: \
    $(BENCH_DIR)/%.db: \
    $(BENCH_WRITES) | $(BENCH_GEN)
	@mkdir -p $(@D)
	@echo "  GEN     $@"
	$(Q)rm -f $@ $@.tmp
	$(Q)$(BENCH_GEN) gua $* $@.tmp >/dev/null && mv $@.tmp $@

$(BENCH_DIR)/lab12-old.db: $(BENCH_WRITES) | $(BENCH_GEN)
	@mkdir -p $(@D)
	@echo "  GEN     $@ (the old format)"
	$(Q)rm -f $@ $@.tmp
	$(Q)$(BENCH_GEN) legacy lab12 $@.tmp >/dev/null && mv $@.tmp $@

# A fleet: 100 copies of lab12 under host names of their own.
$(BENCH_DIR)/hosts/host-100.db: $(BENCH_DIR)/lab12.db | $(BENCH_GEN)
	@echo "  GEN     $(@D) (100 hosts)"
	$(Q)rm -rf $(@D) && mkdir -p $(@D)
	$(Q)$(BENCH_GEN) hosts $< 100 $(@D) >/dev/null

bench: $(GUA) $(BENCH_GEN) $(BENCH_RUN) $(BENCH_DBS) $(FAKE_LIBS)
	@GUA=$(abspath $(GUA)) GEN=$(abspath $(BENCH_GEN)) \
	    RUN=$(abspath $(BENCH_RUN)) DIR=$(abspath $(BENCH_DIR)) \
	    FAKE=$(abspath $(FAKE_DIR)/libnvidia-ml.so.1) \
	    sh bench/bench.sh

$(FAKE_DIR)/libnvidia-ml-no-v3.so.1: FAKE_DEF := -DFAKE_NO_V3
$(FAKE_DIR)/libnvidia-ml-r535.so.1: FAKE_DEF := -DFAKE_R535
$(FAKE_DIR)/libnvidia-ml-old.so.1: FAKE_DEF := -DFAKE_OLD
$(FAKE_LIBS): $(FAKE_DIR)/%: tests/fake-nvml/fake-nvml.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -fPIC -shared \
	    $(FAKE_DEF) -o $@ $<

demo: $(GUA)
	./$(GUA) demo

# T=NAME runs one test file: a unit test (T=test-store) or a CLI test
# (T=test-daemon). A test whose tool is missing is skipped and counted;
# with CI=true a skip fails.
check: $(GUA) $(UNIT_BIN) $(FAKE_LIBS) $(PROCS_SQL)
	@GUA=$(abspath $(GUA)) FAKE_NVML=$(abspath $(FAKE_DIR)) \
	    PROCS_SQL=$(abspath $(PROCS_SQL)) GUA_SANITIZED=$(SANITIZE) \
	    T=$(T) CI=$(CI) tests/run.sh $(UNIT_BIN)

# Static checks, each failing on any finding: cppcheck over the C,
# shellcheck over every shell script (settings in .shellcheckrc), and the
# calls gua must never make (tests/lint-banned.sh). Run by .ci/run.
LINT_SH	:= $(wildcard tests/*.sh tests/*/*.sh bench/*.sh contrib/notify/gua-notify-* \
	   debian/*.postrm) \
	   contrib/slurm/gua-epilog.sh \
	   .ci/run

lint:
	@echo "  LINT    cppcheck src/*.c"
	$(Q)cppcheck --quiet --enable=warning,portability,performance \
	    --std=c11 -D_GNU_SOURCE --error-exitcode=1 -I src src/*.c
	@echo "  LINT    shellcheck"
	$(Q)shellcheck -S warning $(LINT_SH)
	$(Q)shellcheck -S warning -s bash contrib/gua.bash-completion
	@echo "  LINT    tests/lint-banned.sh"
	$(Q)sh tests/lint-banned.sh src

# The long tests (minutes): 100 kill -9 of the collector, 50 each of
# import and backup, 100000 ticks of soak, the collector under valgrind,
# every allocation failing in turn. Run by .ci/run, not by make check.
torture: $(GUA) $(FAKE_LIBS) $(BUILD)/failmalloc.so
	@GUA=$(abspath $(GUA)) FAKE_NVML=$(abspath $(FAKE_DIR)) \
	    FAILMALLOC=$(abspath $(BUILD)/failmalloc.so) T=$(T) CI=$(CI) \
	    TEST_DIR=tests/torture tests/run.sh

# The failing-malloc run's shim (tests/torture/test-malloc.sh): the Nth
# allocation of a process fails.
$(BUILD)/failmalloc.so: tests/torture/failmalloc.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -fPIC -shared \
	    -o $@ $< -ldl

# libFuzzer targets (clang): each runs a fixed number of iterations from the
# corpus in tests/fuzz/corpus/NAME; new inputs go to a scratch directory.
# The /proc parsers, cheap and fed by other users' processes, run 20 times
# as many.
FUZZ_CC		?= clang
FUZZ_RUNS	?= 50000
FUZZ_BUILD	:= build/fuzz
FUZZ_CFLAGS	:= -std=c11 -D_GNU_SOURCE -g -O1 $(WARN) $(SQLITE_CFLAGS) \
		   -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_OBJ	:= $(filter-out $(FUZZ_BUILD)/src/main.o,\
		   $(SRC:src/%.c=$(FUZZ_BUILD)/src/%.o))
FUZZ_SRC	:= $(wildcard tests/fuzz/fuzz-*.c)
# FUZZ_TARGETS=proc (names, without fuzz-) runs only those.
ifneq ($(FUZZ_TARGETS),)
FUZZ_SRC	:= $(FUZZ_TARGETS:%=tests/fuzz/fuzz-%.c)
endif
FUZZ_BIN	:= $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/src/%.o: src/%.c
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP \
	    -c -o $@ $<

$(FUZZ_BUILD)/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_OBJ)
	@echo "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Isrc -fsanitize=fuzzer -MMD -MP \
	    -o $@ $< $(FUZZ_OBJ) $(LDLIBS)

.SECONDARY: $(FUZZ_OBJ)

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
		name=$${f##*/fuzz-}; scratch=$$(mktemp -d); \
		runs=$(FUZZ_RUNS); case $$name in proc|cgroup) runs=$$((runs * 20));; esac; \
		echo "fuzz $$name: $$runs runs"; \
		$$f -runs=$$runs -max_len=65536 -timeout=10 \
		    -print_final_stats=1 $$scratch $(CURDIR)/tests/fuzz/corpus/$$name \
		    >$$scratch.log 2>&1 || { tail -40 $$scratch.log; \
		    rm -rf $$scratch $$scratch.log; exit 1; }; \
		grep -E 'stat::number_of_executed_units|Done' $$scratch.log; \
		rm -rf $$scratch $$scratch.log; \
	done

# The unit's ExecStart names the installed binary: /usr/bin/gua becomes
# $(BINDIR)/gua.
install: $(GUA)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0755 $(GUA) $(DESTDIR)$(BINDIR)/gua
	ln -sf gua $(DESTDIR)$(BINDIR)/gpu-usage-audit
	install -m 0644 docs/gua.1 $(DESTDIR)$(MANDIR)/man1/gua.1
	ln -sf gua.1 $(DESTDIR)$(MANDIR)/man1/gpu-usage-audit.1
	install -m 0644 contrib/gua.bash-completion $(DESTDIR)$(BASHCOMPDIR)/gua
	ln -sf gua $(DESTDIR)$(BASHCOMPDIR)/gpu-usage-audit
	install -m 0644 contrib/_gua $(DESTDIR)$(ZSHCOMPDIR)/_gua
ifneq ($(SYSTEMDUNITDIR),)
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|^ExecStart=/usr/bin/gua |ExecStart=$(BINDIR)/gua |' contrib/gua.service \
	    >$(DESTDIR)$(SYSTEMDUNITDIR)/gua.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/gua.service
	ln -sf gua.service $(DESTDIR)$(SYSTEMDUNITDIR)/gpu-usage-audit.service
	install -d $(DESTDIR)$(SYSUSERSDIR)
	install -m 0644 contrib/gua.sysusers $(DESTDIR)$(SYSUSERSDIR)/gua.conf
endif

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/gua $(DESTDIR)$(BINDIR)/gpu-usage-audit \
	    $(DESTDIR)$(MANDIR)/man1/gua.1 \
	    $(DESTDIR)$(MANDIR)/man1/gpu-usage-audit.1 \
	    $(DESTDIR)$(BASHCOMPDIR)/gua \
	    $(DESTDIR)$(BASHCOMPDIR)/gpu-usage-audit \
	    $(DESTDIR)$(ZSHCOMPDIR)/_gua
ifneq ($(SYSTEMDUNITDIR),)
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/gua.service \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/gpu-usage-audit.service \
	    $(DESTDIR)$(SYSUSERSDIR)/gua.conf
endif

# make install into a scratch DESTDIR puts exactly the listed files in
# place and make uninstall removes them (tests/installcheck.sh).
installcheck: $(GUA)
	@sh tests/installcheck.sh

# make deb: the Debian package gpu-usage-audit (debian/), then lintian
# over it. dpkg-buildpackage writes beside the source directory, so the
# package is built from a copy of the tree in build/deb, where the .deb is
# left; the tree itself stays as it was. The build is the same whatever
# this make was given or its environment holds (SANITIZE=1, CI=true, a
# BINDIR): debian/rules alone decides, with DEB_BUILD_OPTIONS.
DEB_DIR	:= build/deb
deb:
	@echo "  DEB     $(DEB_DIR)"
	$(Q)rm -rf $(DEB_DIR)
	$(Q)mkdir -p $(DEB_DIR)/gpu-usage-audit
	$(Q)tar -cf - --exclude-vcs --exclude=./build --exclude=./gua \
	    --exclude=./tests/out . | tar -xf - -C $(DEB_DIR)/gpu-usage-audit
	$(Q)cd $(DEB_DIR)/gpu-usage-audit && env -i PATH="$$PATH" \
	    HOME="$$HOME" DEB_BUILD_OPTIONS="$${DEB_BUILD_OPTIONS:-}" \
	    dpkg-buildpackage -us -uc -b \
	    >../build.log 2>&1 || { tail -40 ../build.log; exit 1; }
	$(Q)rm -rf $(DEB_DIR)/gpu-usage-audit
	@echo "  LINTIAN $(DEB_DIR)/*.deb"
	$(Q)lintian --fail-on error,warning --display-info $(DEB_DIR)/*.changes
	@ls $(DEB_DIR)/*.deb

# make deb-check: installs the package on this machine, checks it, then
# removes and purges it (tests/cli/test-deb.sh, which make check runs only
# under CI=true). As root, on a machine you may throw away.
deb-check: $(GUA) $(FAKE_LIBS)
	@GUA=$(abspath $(GUA)) FAKE_NVML=$(abspath $(FAKE_DIR)) \
	    GUA_DEB_CHECK=1 T=test-deb CI=$(CI) tests/run.sh

clean:
	rm -rf build gua

-include $(OBJ:.o=.d) $(UNIT_BIN:=.d) $(BENCH_OBJ:.o=.d) \
	 $(FUZZ_OBJ:.o=.d) $(FUZZ_BIN:=.d)
