# SysGuard build. `make` builds the daemon and the CLI; `make unit` runs the
# unit tests; `make unit-asan` runs them under ASan + UBSan; `make static`
# builds the statically linked daemon used inside the BPF LSM test VM.
# `make install` (PREFIX, DESTDIR), `make uninstall` and `make deb`:
# deploy/install.mk.

CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
O        ?= build

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter
HARDEN   := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS   ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARN) $(HARDEN) -D_GNU_SOURCE -Isrc -I$(O) -Ibpf
override LDFLAGS += -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack
LIBS     := -lbpf -lelf -lz -lyaml -lsodium -lcurl -lmicrohttpd -lssl -lcrypto -lnats -lpthread

# Pure libraries (no libbpf): policy engine and report writers, unit-testable.
LIB_SRCS := $(wildcard src/policy/*.c) $(wildcard src/report/*.c) $(wildcard src/config/*.c) $(wildcard src/store/*.c) src/sense/decode.c src/sense/container.c src/sense/helper_audit.c src/sense/loader_args.c src/sense/script_args.c src/sense/elf_loader.c src/sense/open_intent.c src/sense/host_mounts.c src/sense/workload.c $(wildcard src/net/*.c)
# Daemon stages that talk to the kernel.
KERN_SRCS := $(filter-out src/sense/decode.c src/sense/container.c src/sense/helper_audit.c src/sense/loader_args.c src/sense/script_args.c src/sense/elf_loader.c src/sense/open_intent.c src/sense/host_mounts.c src/sense/workload.c,$(wildcard src/sense/*.c)) $(wildcard src/decide/*.c) $(wildcard src/act/*.c)
# File-open audit (FILE-4) and refusal records: their pure parts are library code.
OPEN_AUDIT_PURE := src/sense/open_event.c src/sense/open_select.c src/sense/refusal_event.c
LIB_SRCS += $(OPEN_AUDIT_PURE)
KERN_SRCS := $(filter-out $(OPEN_AUDIT_PURE),$(KERN_SRCS))
DAEMON_SRCS := $(wildcard src/daemon/*.c)
DAEMON_OBJS := $(patsubst %.c,$(O)/%.o,$(DAEMON_SRCS))
CLI_SRCS := $(wildcard src/cli/*.c)
# The CLI's JSON reader and table output are pure: unit-tested, not part of the daemon.
CLI_PURE := src/cli/show.c
CLI_SRCS := $(filter-out $(CLI_PURE),$(CLI_SRCS))
CLI_PURE_OBJS := $(patsubst %.c,$(O)/%.o,$(CLI_PURE))

# One version (src/version.h): a release tag vX.Y.Z when git has one, else VERSION.
SG_VERSION := $(patsubst v%,%,$(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null))
ifeq ($(SG_VERSION),)
SG_VERSION := $(shell cat VERSION)
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst bpf/%.bpf.c,$(O)/%.skel.h,$(BPF_SRCS))

LIB_OBJS  := $(patsubst %.c,$(O)/%.o,$(LIB_SRCS))
KERN_OBJS := $(patsubst %.c,$(O)/%.o,$(KERN_SRCS))

# The gRPC service (src/report/grpc/, C++): its own module, linked into the
# dynamically linked daemon only; the code for proto/ is generated into $(O)/proto.
CXX      ?= g++
PROTOC   ?= protoc
GRPC_CPP_PLUGIN ?= $(shell command -v grpc_cpp_plugin)
GRPC_LIBS = $(shell pkg-config --libs grpc++ protobuf)
CXXFLAGS_SG := -std=c++17 -O2 -g $(WARN) $(HARDEN) -D_GNU_SOURCE -Isrc -I$(O) -isystem $(O)/proto
PROTO_GEN := $(addprefix $(O)/proto/sysguard/v1/sysguard,.pb.h .pb.cc .grpc.pb.h .grpc.pb.cc)
GRPC_OBJS := $(O)/src/report/grpc/grpc_server.o $(O)/proto/sysguard/v1/sysguard.pb.o \
	     $(O)/proto/sysguard/v1/sysguard.grpc.pb.o

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRCS))

.PHONY: all clean unit unit-asan static helper-audit fleet-reader fleet-scale fuzz FORCE
.SECONDARY:
all: $(O)/sysguardd $(O)/sysguardctl

$(O)/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(O)/bpf/%.bpf.o: bpf/%.bpf.c bpf/*.h $(O)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I$(O) -Ibpf -c $< -o $@

$(O)/%.skel.h: $(O)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# Rewritten only when the version changes, so that nothing rebuilds for nothing.
$(O)/sg_version.h: FORCE
	@mkdir -p $(@D)
	@echo '#define SG_VERSION "$(SG_VERSION)"' > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
$(patsubst %.c,$(O)/%.o,$(CLI_SRCS) $(DAEMON_SRCS)): $(O)/sg_version.h

# Pure library objects do not need the BPF skeletons (so unit builds need no BTF).
$(LIB_OBJS) $(CLI_PURE_OBJS): $(O)/%.o: %.c $(wildcard src/*/*.h) $(wildcard bpf/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

# The dashboard's files are copied into this object by the assembler (.incbin).
$(O)/src/report/dashboard.o: $(wildcard src/report/dashboard/*.* src/report/dashboard/vendor/*.js)

$(O)/%.o: %.c $(wildcard src/*/*.h) $(wildcard bpf/*.h) $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(PROTO_GEN) &: proto/sysguard/v1/sysguard.proto
	@mkdir -p $(O)/proto
	$(PROTOC) -Iproto --cpp_out=$(O)/proto --grpc_out=$(O)/proto \
		--plugin=protoc-gen-grpc=$(GRPC_CPP_PLUGIN) $<

# Generated code: the library's style, not ours, so without -Werror.
$(O)/proto/%.o: $(O)/proto/%.cc $(PROTO_GEN)
	$(CXX) -std=c++17 -O2 -g $(HARDEN) -isystem $(O)/proto -c $< -o $@

$(O)/src/report/grpc/%.o: src/report/grpc/%.cc src/report/grpc/*.h $(wildcard src/*/*.h) $(PROTO_GEN)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS_SG) -c $< -o $@

$(O)/src/daemon/grpc_start.o: src/report/grpc/grpc_server.h

$(O)/sysguardd: $(DAEMON_OBJS) $(KERN_OBJS) $(LIB_OBJS) $(GRPC_OBJS)
	$(CXX) $(LDFLAGS) $^ $(LIBS) $(GRPC_LIBS) -lsystemd -o $@

$(O)/sysguardctl: $(patsubst %.c,$(O)/%.o,$(CLI_SRCS)) $(CLI_PURE_OBJS) $(KERN_OBJS) $(LIB_OBJS)
	$(CC) $(LDFLAGS) $^ $(LIBS) -o $@

# Statically linked daemon for the BPF LSM VM test (no libc/so in the guest),
# without libcurl: the alert dispatcher refuses to start (SG_ALERT_NO_CURL),
# and without OpenSSL: the SIEM export refuses transport tls (SG_SIEM_NO_TLS),
# and without libnats (no static library in Debian): the fleet export refuses to start.
STATIC_SRCS := $(KERN_SRCS) $(LIB_SRCS)
static: $(O)/static/sysguardd $(O)/static/sysguardctl
$(O)/static/sysguardd: $(DAEMON_SRCS) $(STATIC_SRCS) $(SKELS) $(wildcard src/*/*.h) $(O)/sg_version.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 $(WARN) -D_GNU_SOURCE -DSG_NO_SYSTEMD -DSG_ALERT_NO_CURL -DSG_API_NO_MHD -DSG_SIEM_NO_TLS -DSG_FLEET_NO_NATS -DSG_NO_GRPC -Isrc -I$(O) -Ibpf -static $(DAEMON_SRCS) $(STATIC_SRCS) \
		-lbpf -lelf -lz -lzstd -lyaml -lsodium -lpthread -o $@
$(O)/static/sysguardctl: $(CLI_SRCS) $(CLI_PURE) $(STATIC_SRCS) $(SKELS) $(O)/sg_version.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 $(WARN) -D_GNU_SOURCE -DSG_ALERT_NO_CURL -DSG_API_NO_MHD -DSG_SIEM_NO_TLS -DSG_FLEET_NO_NATS -Isrc -I$(O) -Ibpf -static $(CLI_SRCS) $(CLI_PURE) $(STATIC_SRCS) \
		-lbpf -lelf -lz -lzstd -lyaml -lsodium -lpthread -o $@

# The BPF LSM file guard's test program, run inside the test VM (tests/vm/test-lsm.sh).
FILE_GUARD_TEST_SRCS := tests/vm/file_guard/guard-test.c src/act/file_lsm.c src/sense/prog_audit.c src/sense/helper_audit.c src/sense/bpf_counters.c
$(O)/static/file-guard-test: $(FILE_GUARD_TEST_SRCS) $(O)/file_guard.skel.h $(wildcard src/*/*.h) $(wildcard bpf/*.h)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 $(WARN) -D_GNU_SOURCE -Isrc -I$(O) -Ibpf -static $(FILE_GUARD_TEST_SRCS) \
		-lbpf -lelf -lz -lzstd -o $@

$(O)/tests/test_%: tests/unit/test_%.c $(LIB_OBJS) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.c %.o,$^) -lcmocka -lyaml -lsodium -lelf -lz -lcurl -lmicrohttpd -lssl -lcrypto -lnats -lpthread -o $@

# The CLI's pure parts (tests/unit/test_cli_show.c).
$(O)/tests/test_cli_show: $(CLI_PURE_OBJS)

# BPF-2 helper audit on real objects: ours pass (and use exactly the
# allowlist), the crafted ones in bpf/testdata/ are refused. Opens, never loads.
AUDIT_TESTDATA := $(patsubst bpf/testdata/%.bpf.c,$(O)/bpf/testdata/%.bpf.o,$(wildcard bpf/testdata/*.bpf.c))
$(O)/bpf/testdata/%.bpf.o: bpf/testdata/%.bpf.c
	@mkdir -p $(@D)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -I/usr/include/$(shell $(CC) -dumpmachine) -Wall -Werror -c $< -o $@

$(O)/tests/audit_objects: tests/helper_audit/audit_objects.c $(O)/src/sense/prog_audit.o $(O)/src/sense/helper_audit.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ -lbpf -lelf -lz -o $@

# The objects whose loaders run the audit (src/sense/exec_bpf.c, src/sense/probe.c, src/act/file_lsm.c).
AUDITED_OBJS := $(O)/bpf/exec.bpf.o $(O)/bpf/probe.bpf.o $(O)/bpf/egress.bpf.o $(O)/bpf/shield.bpf.o $(O)/bpf/file_guard.bpf.o
# ...and src/sense/open_audit.c (file-open audit).
AUDITED_OBJS += $(O)/bpf/file_audit.bpf.o
# ...and src/sense/file_refusal.c (refusals by the immutable flag).
AUDITED_OBJS += $(O)/bpf/file_refusal.bpf.o
helper-audit: $(O)/tests/audit_objects $(AUDITED_OBJS) $(AUDIT_TESTDATA)
	$(O)/tests/audit_objects $(O)/bpf/testdata $(AUDITED_OBJS)

# The fleet e2e tests' stream reader (tests/e2e/test_fleet_events.py; no NATS client for Python).
fleet-reader: $(O)/tests/fleet_reader
$(O)/tests/fleet_reader: tests/e2e/helpers/fleet_reader.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $< -lnats -o $@

# N simulated nodes on the daemon's own bus and watcher code (bench/fleet/run.sh).
fleet-scale: $(O)/fleet-scale
$(O)/fleet-scale: $(wildcard bench/fleet/*.c bench/fleet/*.h) $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.c %.o,$^) -lyaml -lsodium -lelf -lz -lcurl -lmicrohttpd -lssl -lcrypto -lnats -lpthread -lm -o $@

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

unit-asan:
	$(MAKE) O=$(O)/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" unit

# libFuzzer targets (fuzz/): each first replays fuzz/regressions/<target>/
# (every file once), then fuzzes for FUZZ_SECONDS from fuzz/corpus/<target>/
# (+ FUZZ_SEEDS_<target>); a crash fails the build and is saved under
# $(O)/fuzz/ (add it to fuzz/regressions/<target>/ once fixed).
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := policy_parse decode bundle_verify helper_audit_elf
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer -D_GNU_SOURCE -Isrc -Ibpf
FUZZ_SRCS_policy_parse  := $(filter-out %/bundle.c,$(wildcard src/policy/*.c)) $(wildcard src/net/*.c)
FUZZ_SRCS_decode        := src/sense/decode.c
FUZZ_SRCS_bundle_verify := src/policy/bundle.c
FUZZ_SRCS_helper_audit_elf := src/sense/helper_audit.c
FUZZ_SEEDS_policy_parse := policies policies/examples
FUZZ_MAXLEN_decode      := -max_len=8192
FUZZ_MAXLEN_helper_audit_elf := -max_len=65536
FUZZ_DICT = $(if $(wildcard fuzz/$(1).dict),-dict=fuzz/$(1).dict)
FUZZ_BINS := $(addprefix $(O)/fuzz/,$(FUZZ_TARGETS))

.SECONDEXPANSION:
$(O)/fuzz/%: fuzz/%.c $$(FUZZ_SRCS_$$*) $(wildcard src/*/*.h) $(wildcard bpf/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $< $(FUZZ_SRCS_$*) -lyaml -lsodium -o $@

fuzz: $(addprefix fuzz-run-,$(FUZZ_TARGETS))

# fuzz-run-<target>: one target (a pattern rule, so not .PHONY; no such file exists).
fuzz-run-%: $(O)/fuzz/%
	@set -e; t=$*; \
	regs=$$(find fuzz/regressions/$$t -type f ! -name '*.md' 2>/dev/null | sort); \
	echo "== fuzz $$t: replay $$(echo "$$regs" | grep -c . || true) regression input(s)"; \
	if [ -n "$$regs" ]; then $< $$regs >$<.replay.log 2>&1 || \
		{ tail -40 $<.replay.log; echo "fuzz $$t: a regression input fails" >&2; exit 1; }; fi; \
	echo "== fuzz $$t: $(FUZZ_SECONDS)s"; mkdir -p $<.corpus; \
	$< -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -artifact_prefix=$<- \
		$(FUZZ_MAXLEN_$*) $(call FUZZ_DICT,$*) $<.corpus fuzz/corpus/$$t $(FUZZ_SEEDS_$*) >$<.log 2>&1 || \
		{ tail -60 $<.log; echo "fuzz $$t: crash, input saved as $<-*" >&2; exit 1; }; \
	grep -E '^#[0-9]+.*DONE' $<.log | tail -1

clean:
	rm -rf $(O)

include deploy/install.mk
