// SPDX-License-Identifier: Apache-2.0
#include "sense/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probe.skel.h"
#include "sense/prog_audit.h"
#include "sense/mounts.h"

static const char *const names[SG_FEAT_MAX] = {
	[SG_FEAT_BTF] = "btf",
	[SG_FEAT_RINGBUF] = "ringbuf",
	[SG_FEAT_TP_BTF] = "tp_btf",
	[SG_FEAT_SEND_SIGNAL] = "bpf_send_signal",
	[SG_FEAT_LSM_ACTIVE] = "lsm_list_has_bpf",
	[SG_FEAT_BPF_LSM] = "bpf_lsm",
	[SG_FEAT_TRAMPOLINE] = "trampoline",
	[SG_FEAT_FAN_EXEC_PERM] = "fanotify_exec_perm",
	[SG_FEAT_FAN_OPEN_PERM] = "fanotify_open_perm",
	[SG_FEAT_FAN_MARK_IGNORE] = "fanotify_mark_ignore",
	[SG_FEAT_CGROUP2] = "cgroup2_sock_addr",
	[SG_FEAT_XDP] = "xdp",
};

const char *sg_feature_name(enum sg_feature f)
{
	return f < SG_FEAT_MAX ? names[f] : "unknown";
}

static void set(struct sg_features *fs, enum sg_feature f, bool usable, const char *fmt, ...)
{
	va_list ap;

	fs->f[f].usable = usable;
	va_start(ap, fmt);
	vsnprintf(fs->f[f].detail, sizeof(fs->f[f].detail), fmt, ap);
	va_end(ap);
}

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* Load the probe object with only `prog` enabled. */
static int load_one(struct probe_bpf **out, struct bpf_program *(*pick)(struct probe_bpf *))
{
	struct probe_bpf *skel = probe_bpf__open();
	struct bpf_program *p;
	char why[256];
	const void *elf;
	size_t elf_len;
	int err;

	if (!skel)
		return -errno;
	/* BPF-2: refuse forbidden helpers before the kernel sees the object. */
	elf = probe_bpf__elf_bytes(&elf_len);
	err = sg_bpf_object_audit(skel->obj, elf, elf_len, why, sizeof(why));
	if (err) {
		fprintf(stderr, "sysguard: %s\n", why);
		probe_bpf__destroy(skel);
		return err;
	}
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, false);
	bpf_program__set_autoload(pick(skel), true);
	err = probe_bpf__load(skel);
	if (err) {
		probe_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

static struct bpf_program *pick_lsm(struct probe_bpf *s) { return s->progs.probe_lsm; }
static struct bpf_program *pick_fentry(struct probe_bpf *s) { return s->progs.probe_fentry; }
static struct bpf_program *pick_tp(struct probe_bpf *s) { return s->progs.probe_tp_btf; }
static struct bpf_program *pick_signal(struct probe_bpf *s) { return s->progs.probe_send_signal; }
static struct bpf_program *pick_xdp(struct probe_bpf *s) { return s->progs.probe_xdp; }
static struct bpf_program *pick_connect4(struct probe_bpf *s) { return s->progs.probe_connect4; }

/* Load and attach a tracing-style program; detach at once. */
static void probe_attach(struct sg_features *fs, enum sg_feature f,
			 struct bpf_program *(*pick)(struct probe_bpf *))
{
	struct probe_bpf *skel;
	struct bpf_link *link;
	int err = load_one(&skel, pick);

	if (err) {
		set(fs, f, false, "load failed: %s", strerror(-err));
		return;
	}
	link = bpf_program__attach(pick(skel));
	if (!link) {
		err = -errno;
		set(fs, f, false, "attach failed: %s", strerror(-err));
	} else {
		set(fs, f, true, "loaded and attached");
		bpf_link__destroy(link);
	}
	probe_bpf__destroy(skel);
}

static void probe_xdp_run(struct sg_features *fs)
{
	struct probe_bpf *skel;
	unsigned char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = 1);
	int err = load_one(&skel, pick_xdp);

	if (err) {
		set(fs, SG_FEAT_XDP, false, "load failed: %s", strerror(-err));
		return;
	}
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.probe_xdp), &opts);
	if (err)
		set(fs, SG_FEAT_XDP, false, "test run failed: %s", strerror(errno));
	else if (opts.retval != 2 /* XDP_PASS */)
		set(fs, SG_FEAT_XDP, false, "test run returned %u", opts.retval);
	else
		set(fs, SG_FEAT_XDP, true, "loaded and ran (BPF_PROG_TEST_RUN)");
	probe_bpf__destroy(skel);
}

static void probe_cgroup2(struct sg_features *fs)
{
	struct probe_bpf *skel;
	struct bpf_link *link;
	int cg, err;

	if (sg_find_cgroup2(fs->cgroup2_path, sizeof(fs->cgroup2_path))) {
		set(fs, SG_FEAT_CGROUP2, false, "no cgroup2 mount in /proc/self/mounts");
		return;
	}
	cg = open(fs->cgroup2_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		set(fs, SG_FEAT_CGROUP2, false, "open %s: %s", fs->cgroup2_path, strerror(errno));
		return;
	}
	err = load_one(&skel, pick_connect4);
	if (err) {
		set(fs, SG_FEAT_CGROUP2, false, "load failed: %s", strerror(-err));
		close(cg);
		return;
	}
	link = bpf_program__attach_cgroup(skel->progs.probe_connect4, cg);
	if (!link) {
		set(fs, SG_FEAT_CGROUP2, false, "attach at %s failed: %s", fs->cgroup2_path,
		    strerror(errno));
	} else {
		set(fs, SG_FEAT_CGROUP2, true, "%s", fs->cgroup2_path);
		bpf_link__destroy(link);
	}
	probe_bpf__destroy(skel);
	close(cg);
}

static void probe_ringbuf(struct sg_features *fs)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "sg_probe_rb", 0, 0, 4096, NULL);

	if (fd < 0) {
		set(fs, SG_FEAT_RINGBUF, false, "map create failed: %s", strerror(errno));
		return;
	}
	set(fs, SG_FEAT_RINGBUF, true, "map created");
	close(fd);
}

static void probe_lsm_list(struct sg_features *fs)
{
	char buf[512] = "";
	ssize_t n;
	int fd;

	sg_ensure_mounted(SG_SECURITYFS_PATH, "securityfs");
	fd = open(SG_SECURITYFS_PATH "/lsm", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		set(fs, SG_FEAT_LSM_ACTIVE, false, "cannot read %s/lsm: %s", SG_SECURITYFS_PATH,
		    strerror(errno));
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	set(fs, SG_FEAT_LSM_ACTIVE, strstr(buf, "bpf") != NULL, "%s", buf);
}

static void probe_fanotify(struct sg_features *fs)
{
	int fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY);
	int err;

	if (fd < 0) {
		err = errno;
		set(fs, SG_FEAT_FAN_EXEC_PERM, false, "fanotify_init: %s", strerror(err));
		set(fs, SG_FEAT_FAN_OPEN_PERM, false, "fanotify_init: %s", strerror(err));
		set(fs, SG_FEAT_FAN_MARK_IGNORE, false, "fanotify_init: %s", strerror(err));
		return;
	}
	if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC_PERM, AT_FDCWD, "/"))
		set(fs, SG_FEAT_FAN_EXEC_PERM, false, "filesystem mark: %s", strerror(errno));
	else
		set(fs, SG_FEAT_FAN_EXEC_PERM, true, "filesystem mark placed on /");
	/* Inode marks on a file nobody opens: placed and removed, no event can fire. */
	if (fanotify_mark(fd, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD, "/proc/self/exe"))
		set(fs, SG_FEAT_FAN_OPEN_PERM, false, "inode mark: %s", strerror(errno));
	else
		set(fs, SG_FEAT_FAN_OPEN_PERM, true, "inode mark placed");
	if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_IGNORE, FAN_OPEN_EXEC_PERM, AT_FDCWD,
			  "/proc/self/exe"))
		set(fs, SG_FEAT_FAN_MARK_IGNORE, false, "ignore mark: %s", strerror(errno));
	else
		set(fs, SG_FEAT_FAN_MARK_IGNORE, true, "ignore mark placed");
	close(fd);
}

void sg_probe_run(struct sg_features *fs)
{
	libbpf_print_fn_t old = libbpf_set_print(quiet_print);

	memset(fs, 0, sizeof(*fs));
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		set(fs, SG_FEAT_BTF, false, "/sys/kernel/btf/vmlinux: %s", strerror(errno));
	else
		set(fs, SG_FEAT_BTF, true, "/sys/kernel/btf/vmlinux");
	probe_ringbuf(fs);
	probe_attach(fs, SG_FEAT_TP_BTF, pick_tp);
	probe_attach(fs, SG_FEAT_SEND_SIGNAL, pick_signal);
	probe_lsm_list(fs);
	probe_attach(fs, SG_FEAT_BPF_LSM, pick_lsm);
	probe_attach(fs, SG_FEAT_TRAMPOLINE, pick_fentry);
	probe_fanotify(fs);
	probe_cgroup2(fs);
	probe_xdp_run(fs);
	libbpf_set_print(old);
}

void sg_probe_to_json(const struct sg_features *fs, struct sg_json *j)
{
	int i;

	sg_json_key(j, "features");
	sg_json_begin_object(j);
	for (i = 0; i < SG_FEAT_MAX; i++) {
		sg_json_key(j, names[i]);
		sg_json_begin_object(j);
		sg_json_kv_bool(j, "usable", fs->f[i].usable);
		sg_json_kv_str(j, "detail", fs->f[i].detail);
		sg_json_end_object(j);
	}
	sg_json_end_object(j);
}

const char *sg_probe_silent_refusals(const struct sg_features *fs)
{
	if (fs->f[SG_FEAT_BPF_LSM].usable)
		return "none (bpf_lsm records every refusal)";
	if (fs->f[SG_FEAT_TP_BTF].usable && fs->f[SG_FEAT_RINGBUF].usable)
		return "by default every refusal by the immutable flag (unlink, rename, link, "
		       "truncate, chmod, chown, utimes, xattr changes, write-opens); with "
		       "--record-immutable-refusals: io_uring operations; 32-bit (int 0x80) and x32 system calls; openat2 "
		       "write-opens whose flags the caller rewrote before the call returned; "
		       "path arguments over 255 bytes; calls from another mount namespace "
		       "or chroot whose path does not name the file in the daemon's";
	return "every refusal by the immutable flag: unlink, rename, link, truncate, chmod, "
	       "chown, utimes, xattr changes and write-opens (tp_btf/sys_exit unavailable)";
}
