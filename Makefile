# gua: a plain GNU Makefile. `make demo` and `make check` are the contract.
#   make SANITIZE=1 check   builds in build/sanitize with ASan and UBSan
#   make CI=true ...        turns warnings into errors

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
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

ALL_CFLAGS	= -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) \
		  $(SQLITE_CFLAGS) -MMD -MP
LDLIBS		= $(SQLITE_LIBS) -ldl -lm

SRC	:= $(wildcard src/*.c)
OBJ	:= $(SRC:src/%.c=$(BUILD)/src/%.o)
LIBOBJ	:= $(filter-out $(BUILD)/src/main.o,$(OBJ))

UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# The fake NVML the tests load instead of NVIDIA's, in four symbol sets.
# Built without sanitizers: an ASan gua dlopens it like any library.
FAKE_DIR  := $(BUILD)/fake-nvml
FAKE_LIBS := $(addprefix $(FAKE_DIR)/,libnvidia-ml.so.1 \
	     libnvidia-ml-no-v3.so.1 libnvidia-ml-r535.so.1 \
	     libnvidia-ml-old.so.1)

.PHONY: all check demo install uninstall clean

all: $(GUA)

$(GUA): $(OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

$(BUILD)/src/%.o: src/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/harness.h $(LIBOBJ)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)

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

check: $(GUA) $(UNIT_BIN) $(FAKE_LIBS)
	@GUA=$(abspath $(GUA)) FAKE_NVML=$(abspath $(FAKE_DIR)) \
	    tests/run.sh $(UNIT_BIN)

install: $(GUA)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(GUA) $(DESTDIR)$(BINDIR)/gua
	ln -sf gua $(DESTDIR)$(BINDIR)/gpu-usage-audit
	install -m 0644 doc/gua.1 $(DESTDIR)$(MANDIR)/man1/gua.1
	ln -sf gua.1 $(DESTDIR)$(MANDIR)/man1/gpu-usage-audit.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/gua $(DESTDIR)$(BINDIR)/gpu-usage-audit \
	    $(DESTDIR)$(MANDIR)/man1/gua.1 \
	    $(DESTDIR)$(MANDIR)/man1/gpu-usage-audit.1

clean:
	rm -rf build gua

-include $(OBJ:.o=.d) $(UNIT_BIN:=.d)
