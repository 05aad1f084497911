# tincan — plain Makefile with pkg-config.
#
#   make            build ./tincan
#   make run        install what is missing, build, start on the defaults
#   make test       install what is missing, build, run every test
#   make fnlen      check that no function in src/ is over 60 lines
#   make fuzz       run each fuzz target for FUZZ_SECONDS (default 60)
#   make bench      run the benchmarks in bench/
#   make asan       build build/asan/tincan with AddressSanitizer + UBSan
#   make tsan       build build/tsan/tincan and the queue's unit test with ThreadSanitizer

CC      ?= cc
PKGS    := openssl jansson sqlite3 libsrtp2 libargon2
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -fno-strict-aliasing -Isrc -Ibuild/gen $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS))
ASAN    := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
TSAN    := -O1 -g -fsanitize=thread -fno-omit-frame-pointer
PREFIX  ?= /usr/local
# make install: the binary, the systemd unit (in a directory systemd searches
# for PREFIX=/usr/local and /usr; use SYSTEMDDIR=/etc/systemd/system for
# other prefixes), the docs, and /etc/tincan/tincan.conf unless it exists.
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR     ?= $(PREFIX)/share/doc/tincan

# Every module but main.c; tests and fuzz targets link against these.
LIB_SRC := $(sort $(wildcard src/*/*.c))
GEN_SRC := build/gen/web_assets.c
WEB     := $(shell find web -type f ! -name '.*' 2>/dev/null)
UNIT    := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
FUZZ    := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60

REL_OBJ  := $(patsubst %.c,build/rel/%.o,$(LIB_SRC) $(GEN_SRC))
ASAN_OBJ := $(patsubst %.c,build/asan/%.o,$(LIB_SRC) $(GEN_SRC))
TSAN_OBJ := $(patsubst %.c,build/tsan/%.o,$(LIB_SRC) $(GEN_SRC))

.PHONY: all run test unit fnlen fuzz fuzz-build bench asan tsan deps clean install uninstall sfuload srtpbench
all: tincan

$(GEN_SRC): $(WEB) scripts/embed.py
	@mkdir -p $(dir $@)
	/usr/bin/python3 scripts/embed.py web $@

build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ASAN) -MMD -MP -c $< -o $@

tincan: $(REL_OBJ) build/rel/src/main.o
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

build/asan/tincan: $(ASAN_OBJ) build/asan/src/main.o
	$(CC) $(CFLAGS) $(ASAN) $^ -o $@ $(LDLIBS)

asan: build/asan/tincan

# ThreadSanitizer: the media threads (docs/sfu.md, "Threading"). Run the
# threads' integration test against it with
# TINCAN_BIN=build/tsan/tincan node --test tests/integration/sfu-threads.test.mjs
build/tsan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TSAN) -MMD -MP -c $< -o $@

build/tsan/tincan: $(TSAN_OBJ) build/tsan/src/main.o
	$(CC) $(CFLAGS) $(TSAN) $^ -o $@ $(LDLIBS)

build/tsan/unit/%: tests/unit/%.c $(TSAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TSAN) -MMD -MP -MF $@.d -MT $@ $< $(TSAN_OBJ) -o $@ $(LDLIBS) -lcmocka

tsan: build/tsan/tincan build/tsan/unit/test_spsc

# Unit tests (cmocka), built twice: plain and with sanitizers. Each depends
# on the headers it includes (tests/unit has helpers shared by several).
build/rel/unit/%: tests/unit/%.c $(REL_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -MF $@.d -MT $@ $< $(REL_OBJ) -o $@ $(LDLIBS) -lcmocka

build/asan/unit/%: tests/unit/%.c $(ASAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ASAN) -MMD -MP -MF $@.d -MT $@ $< $(ASAN_OBJ) -o $@ $(LDLIBS) -lcmocka

unit: $(addprefix build/rel/unit/,$(UNIT)) $(addprefix build/asan/unit/,$(UNIT))

# The SFU load generator of bench/sfu (and of the sfu-load integration
# test): the project's own DTLS, SRTP, ICE and SDP code playing browsers.
sfuload: build/rel/sfuload
build/rel/sfuload: bench/sfu/sfuload.c $(REL_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(REL_OBJ) -o $@ $(LDLIBS)

# CPU time per SRTP protect/unprotect through src/sfu/srtp.c (bench/srtp).
srtpbench: build/rel/srtpbench
build/rel/srtpbench: bench/srtp/protect.c $(REL_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(REL_OBJ) -o $@ $(LDLIBS)

# Fuzz targets (libFuzzer, clang). The test run runs each briefly.
FUZZ_COMMON := -O1 -g -std=c17 -D_GNU_SOURCE -Isrc -Ibuild/gen $(shell pkg-config --cflags $(PKGS))
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined $(FUZZ_COMMON)
# The library is compiled once for every target (instrumented for the
# fuzzer, without its main), then each target links against it.
FUZZ_OBJ := $(patsubst %.c,build/fuzz/obj/%.o,$(LIB_SRC) $(GEN_SRC))
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang -fsanitize=fuzzer-no-link,address,undefined $(FUZZ_COMMON) -MMD -MP -c $< -o $@
.SECONDARY: $(FUZZ_OBJ)

build/fuzz/%: fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) $< $(FUZZ_OBJ) -o $@ $(LDLIBS)

fuzz-build: $(addprefix build/fuzz/,$(FUZZ))

fuzz: fuzz-build
	@for f in $(FUZZ); do \
	  mkdir -p build/fuzz/corpus/$$f; \
	  echo "== $$f ($(FUZZ_SECONDS) s)"; \
	  ./build/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus/$$f fuzz/corpus/$$f || exit 1; \
	done

deps:
	scripts/deps.sh

run: deps
	$(MAKE) tincan
	./tincan

test: deps
	$(MAKE) tincan build/asan/tincan unit fuzz-build sfuload
	scripts/test.sh

fnlen:
	/usr/bin/python3 scripts/fnlen.py src

bench: tincan sfuload
	bench/http/run.sh
	bench/ws_idle/run.sh
	bench/signal/run.sh
	bench/turn/run.sh
	bench/sfu/run.sh

install: tincan
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/tincan
	install -m 0755 tincan $(DESTDIR)$(BINDIR)/tincan
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
	  deploy/tincan.service >$(DESTDIR)$(SYSTEMDDIR)/tincan.service
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/tincan.service
	install -m 0644 README.md docs/*.md deploy/tincan.conf.example $(DESTDIR)$(DOCDIR)/
	test -e $(DESTDIR)$(SYSCONFDIR)/tincan/tincan.conf || \
	  install -m 0644 deploy/tincan.conf.example $(DESTDIR)$(SYSCONFDIR)/tincan/tincan.conf

# Leaves /etc/tincan and /var/lib/tincan (settings and data) alone.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tincan $(DESTDIR)$(SYSTEMDDIR)/tincan.service
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build tincan test-output

-include $(shell find build -name '*.d' 2>/dev/null)
