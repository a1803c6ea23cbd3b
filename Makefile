# SysGuard build. `make` builds the daemon and the CLI; `make unit` runs the
# unit tests; `make unit-asan` runs them under ASan + UBSan; `make static`
# builds the statically linked daemon used inside the BPF LSM test VM.

CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
O        ?= build

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter
HARDEN   := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS   ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARN) $(HARDEN) -D_GNU_SOURCE -Isrc -I$(O) -Ibpf
override LDFLAGS += -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack
LIBS     := -lbpf -lelf -lz -lyaml -lsodium -lcurl -lpthread

# Pure libraries (no libbpf): policy engine and report writers, unit-testable.
LIB_SRCS := $(wildcard src/policy/*.c) $(wildcard src/report/*.c) $(wildcard src/config/*.c) src/sense/decode.c src/sense/loader_args.c src/sense/elf_loader.c
# Daemon stages that talk to the kernel.
KERN_SRCS := $(filter-out src/sense/decode.c src/sense/loader_args.c src/sense/elf_loader.c,$(wildcard src/sense/*.c)) $(wildcard src/decide/*.c) $(wildcard src/act/*.c)
DAEMON_MAIN := src/sysguardd.c
CLI_SRCS := $(wildcard src/cli/*.c)

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst bpf/%.bpf.c,$(O)/%.skel.h,$(BPF_SRCS))

LIB_OBJS  := $(patsubst %.c,$(O)/%.o,$(LIB_SRCS))
KERN_OBJS := $(patsubst %.c,$(O)/%.o,$(KERN_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRCS))

.PHONY: all clean unit unit-asan static
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

# Pure library objects do not need the BPF skeletons (so unit builds need no BTF).
$(LIB_OBJS): $(O)/%.o: %.c $(wildcard src/*/*.h) bpf/sysguard.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(O)/%.o: %.c $(wildcard src/*/*.h) bpf/sysguard.h $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(O)/sysguardd: $(O)/src/sysguardd.o $(KERN_OBJS) $(LIB_OBJS)
	$(CC) $(LDFLAGS) $^ $(LIBS) -o $@

$(O)/sysguardctl: $(patsubst %.c,$(O)/%.o,$(CLI_SRCS)) $(KERN_OBJS) $(LIB_OBJS)
	$(CC) $(LDFLAGS) $^ $(LIBS) -o $@

# Statically linked daemon for the BPF LSM VM test (no libc/so in the guest),
# without libcurl: the alert dispatcher refuses to start (SG_ALERT_NO_CURL).
STATIC_SRCS := $(KERN_SRCS) $(LIB_SRCS)
static: $(O)/static/sysguardd $(O)/static/sysguardctl
$(O)/static/sysguardd: $(DAEMON_MAIN) $(STATIC_SRCS) $(SKELS)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 $(WARN) -D_GNU_SOURCE -DSG_ALERT_NO_CURL -Isrc -I$(O) -Ibpf -static $(DAEMON_MAIN) $(STATIC_SRCS) \
		-lbpf -lelf -lz -lzstd -lyaml -lsodium -lpthread -o $@
$(O)/static/sysguardctl: $(CLI_SRCS) $(STATIC_SRCS) $(SKELS)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 $(WARN) -D_GNU_SOURCE -DSG_ALERT_NO_CURL -Isrc -I$(O) -Ibpf -static $(CLI_SRCS) $(STATIC_SRCS) \
		-lbpf -lelf -lz -lzstd -lyaml -lsodium -lpthread -o $@

$(O)/tests/test_%: tests/unit/test_%.c $(LIB_OBJS) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.c %.o,$^) -lcmocka -lyaml -lsodium -lelf -lcurl -lpthread -o $@

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

unit-asan:
	$(MAKE) O=$(O)/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" unit

clean:
	rm -rf $(O)
