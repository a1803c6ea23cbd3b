// SPDX-License-Identifier: Apache-2.0
/*
 * The BPF LSM file guard (FILE-1, FILE-3, BPF-7), for real, inside the test
 * VM: statically linked, run as root.
 *
 *   guard-test              the test: starts the guard through
 *                           sg_file_lsm_start() with this executable as the
 *                           daemon, then drives a copy of itself (another
 *                           inode, so another executable) against it
 *   guard-test try OP ...   one operation; exits with its errno (0: done)
 *
 * Prints "ok: ..." per check, "FAIL: ..." per failure, and last
 * "file-guard: PASS (N checks)" or "file-guard: FAIL (N of M checks)".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "act/file_lsm.h"
#include "sense/kdev.h"

#define DIR "/tmp/fg"
#define OTHER DIR "/other"
#define PROTECTED DIR "/protected"
#define SECRET DIR "/secret"
#define FREE DIR "/free"
#define PIN "/sys/fs/bpf/fg_daemon_w"
#define RULE_PROTECTED 7
#define RULE_SECRET 8
#define RULE_MAP_W 21
#define RULE_MAP_RW 22
#define MAX_EVENTS 256

static struct sg_file_event events[MAX_EVENTS];
static unsigned nevents, checks, failures;

#define CHECK(cond, ...)					\
	do {							\
		checks++;					\
		if (cond) {					\
			printf("ok: " __VA_ARGS__);		\
		} else {					\
			failures++;				\
			printf("FAIL: " __VA_ARGS__);		\
		}						\
		putchar('\n');					\
	} while (0)

/* ---------------------------------------------------------------- try */

static int open_flags(const char *op)
{
	if (!strcmp(op, "open-w"))
		return O_WRONLY;
	if (!strcmp(op, "open-rw"))
		return O_RDWR;
	if (!strcmp(op, "open-append"))
		return O_WRONLY | O_APPEND;
	if (!strcmp(op, "open-trunc"))
		return O_RDONLY | O_TRUNC;
	if (!strcmp(op, "open-r"))
		return O_RDONLY;
	return -1;
}

static int obj_flags(const char *s)
{
	return !strcmp(s, "ro") ? BPF_F_RDONLY : !strcmp(s, "wo") ? BPF_F_WRONLY : 0;
}

/* A socket filter that stores 0x1234 at key 0 of the map behind map_fd, run once. */
static int write_through_prog(int map_fd)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 1, .src_reg = BPF_PSEUDO_MAP_FD,
		  .imm = map_fd },
		{ 0 },
		{ .code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = 10, .off = -4, .imm = 0 },
		{ .code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = 10, .off = -16, .imm = 0x1234 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 2, .src_reg = 10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 2, .imm = -4 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 3, .src_reg = 10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 3, .imm = -16 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 4, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_update_elem },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = pkt, .data_size_in = sizeof(pkt));
	int prog = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "fg_writer", "GPL", insns,
				 sizeof(insns) / sizeof(insns[0]), NULL);

	if (prog < 0)
		return errno;
	if (bpf_prog_test_run_opts(prog, &run))
		return errno;
	return 0;
}

/* One operation by this process; the errno it met, 0 if it went through. */
static int try_op(int argc, char **argv)
{
	const char *op = argv[0], *path = argc > 1 ? argv[1] : "", *arg = argc > 2 ? argv[2] : "";
	int flags = open_flags(op), fd;
	char c;

	if (flags >= 0) {
		fd = open(path, flags);
		if (fd < 0)
			return errno;
		if (flags == O_RDONLY && read(fd, &c, 1) < 0)
			return errno;
		return 0;
	}
	if (!strcmp(op, "write")) {
		fd = open(path, O_WRONLY | O_APPEND);
		if (fd < 0 || write(fd, "x", 1) != 1)
			return errno;
		return 0;
	}
	if (!strcmp(op, "truncate"))
		return truncate(path, 0) ? errno : 0;
	/* An fd opened for write before the file was protected, inherited: path is its number. */
	if (!strcmp(op, "ftruncate-fd"))
		return ftruncate(atoi(path), 0) ? errno : 0;
	if (!strcmp(op, "write-fd"))
		return write(atoi(path), "w", 1) == 1 ? 0 : errno;
	if (!strcmp(op, "unlink"))
		return unlink(path) ? errno : 0;
	if (!strcmp(op, "rename"))
		return rename(path, arg) ? errno : 0;
	if (!strcmp(op, "link"))
		return link(path, arg) ? errno : 0;
	if (!strcmp(op, "chmod"))
		return chmod(path, 0600) ? errno : 0;
	if (!strcmp(op, "chown"))
		return chown(path, 65534, 65534) ? errno : 0;
	if (!strcmp(op, "utimes"))
		return utimensat(AT_FDCWD, path, NULL, 0) ? errno : 0;
	if (!strcmp(op, "map-fd")) {
		LIBBPF_OPTS(bpf_get_fd_by_id_opts, o, .open_flags = obj_flags(arg));

		return bpf_map_get_fd_by_id_opts(strtoul(path, NULL, 0), &o) < 0 ? errno : 0;
	}
	if (!strcmp(op, "obj-get")) {
		LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = obj_flags(arg));

		return bpf_obj_get_opts(path, &o) < 0 ? errno : 0;
	}
	if (!strcmp(op, "prog-write")) {
		LIBBPF_OPTS(bpf_get_fd_by_id_opts, o, .open_flags = BPF_F_RDONLY);
		int map = bpf_map_get_fd_by_id_opts(strtoul(path, NULL, 0), &o);

		return map < 0 ? errno : write_through_prog(map);
	}
	fprintf(stderr, "try: unknown operation %s\n", op);
	return 125;
}

/* ---------------------------------------------------------------- the test */

static void on_event(void *ctx, const struct sg_file_event *ev)
{
	if (nevents < MAX_EVENTS)
		events[nevents++] = *ev;
}

static struct sg_file_lsm *guard;

static void drain(void)
{
	sg_file_lsm_poll(guard);
}

/* Run `exe try OP PATH ARG`; its errno (or 126+ for trouble), and its pid in *pid. */
static int run(const char *exe, const char *op, const char *path, const char *arg, pid_t *pid)
{
	char *argv[] = { (char *)"guard-test", (char *)"try", (char *)op, (char *)path,
			 (char *)arg, NULL };
	int status;
	pid_t p = fork();

	if (p < 0)
		return 126;
	if (p == 0) {
		execv(exe, argv);
		_exit(127);
	}
	if (pid)
		*pid = p;
	if (waitpid(p, &status, 0) != p || !WIFEXITED(status))
		return 128;
	return WEXITSTATUS(status);
}

static struct sg_inode_key key_of(const char *path)
{
	struct sg_inode_key k = { 0 };
	struct stat st;

	if (stat(path, &st) == 0) {
		k.ino = st.st_ino;
		k.dev = sg_kdev_from_st(st.st_dev);
	}
	return k;
}

static bool same_key(const struct sg_inode_key *a, const struct sg_inode_key *b)
{
	return a->ino == b->ino && a->dev == b->dev;
}

static const struct sg_file_event *find_event(pid_t pid, __u32 op)
{
	unsigned i;

	for (i = 0; i < nevents; i++)
		if (events[i].hdr.tgid == (__u32)pid && events[i].op == op)
			return &events[i];
	return NULL;
}

static struct sg_inode_key other_exe, self_exe;

/* What each protected inode or guarded map was given: records must name that rule. */
static struct {
	struct sg_inode_key k;
	__u32 rule_id;
} rules[8];
static unsigned nrules;

static void note_rule(const struct sg_inode_key *k, __u32 rule_id)
{
	if (nrules < sizeof(rules) / sizeof(rules[0])) {
		rules[nrules].k = *k;
		rules[nrules++].rule_id = rule_id;
	}
}

static __u32 rule_of(const struct sg_inode_key *k)
{
	unsigned i;

	for (i = 0; i < nrules; i++)
		if (same_key(&rules[i].k, k))
			return rules[i].rule_id;
	return ~0u;
}

/*
 * The other executable's `op` on `path` fails with `want` (EPERM or 0); a
 * refusal (or, in monitor mode, a would-be refusal) leaves a record of
 * `ev_op` on `file` named `name` with the caller's pid and executable.
 */
static void expect(const char *what, const char *op, const char *path, const char *arg, int want,
		   __u32 ev_op, const struct sg_inode_key *file, const char *name, bool blocked)
{
	const struct sg_file_event *e;
	pid_t pid = 0;
	int got = run(OTHER, op, path, arg, &pid);

	CHECK(got == want, "%s: %s %s -> %s (want %s)", what, op, path,
	      got ? strerror(got) : "done", want ? strerror(want) : "done");
	if (!ev_op)
		return;
	drain();
	e = find_event(pid, ev_op);
	CHECK(e && same_key(&e->file, file) && same_key(&e->exe, &other_exe) &&
	      e->blocked == blocked && e->hdr.type == SG_EV_FILE && e->hdr.pid == (__u32)pid &&
	      e->rule_id == rule_of(file) && (!name || !strcmp(e->name, name)),
	      "%s: record op %u pid %d ino %llu rule %u blocked %d name %s", what, ev_op, pid,
	      (unsigned long long)file->ino, rule_of(file), blocked, name ? name : "-");
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

static int copy_self(const char *dst)
{
	int in = open("/proc/self/exe", O_RDONLY), out;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (out < 0) {
		close(in);
		return -errno;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n) {
			n = -1;
			break;
		}
	close(in);
	close(out);
	return n < 0 ? -EIO : 0;
}

static int new_map(const char *name)
{
	return bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, 8, 1, NULL);
}

static __u32 id_of_fd(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* The id of the (only) live map named `name`, 0 if none. */
static __u32 map_named(const char *name)
{
	__u32 id = 0, found = 0;

	while (!bpf_map_get_next_id(id, &id)) {
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		int fd = bpf_map_get_fd_by_id(id);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, name))
			found = id;
		close(fd);
	}
	return found;
}

/* Programs named sg_fg_* still loaded. */
static int guard_progs_loaded(void)
{
	__u32 id = 0;
	int n = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strncmp(info.name, "sg_fg_", 6))
			n++;
		close(fd);
	}
	return n;
}

static void check_files(void)
{
	struct sg_inode_key prot = key_of(PROTECTED), secret = key_of(SECRET);
	const int E = EPERM;

	/* FILE-1: every way of changing the protected inode, by another executable. */
	expect("write open", "open-w", PROTECTED, "", E, SG_FOP_OPEN_WRITE, &prot, "protected",
	       true);
	expect("read-write open", "open-rw", PROTECTED, "", E, SG_FOP_OPEN_WRITE, &prot, NULL,
	       true);
	expect("append open", "open-append", PROTECTED, "", E, SG_FOP_OPEN_WRITE, &prot, NULL,
	       true);
	expect("O_TRUNC open", "open-trunc", PROTECTED, "", E, SG_FOP_OPEN_WRITE, &prot, NULL,
	       true);
	expect("truncate()", "truncate", PROTECTED, "", E, SG_FOP_TRUNCATE, &prot, "protected",
	       true);
	expect("unlink", "unlink", PROTECTED, "", E, SG_FOP_UNLINK, &prot, "protected", true);
	expect("rename away", "rename", PROTECTED, DIR "/moved", E, SG_FOP_RENAME, &prot,
	       "protected", true);
	expect("rename over", "rename", DIR "/intruder", PROTECTED, E, SG_FOP_RENAME, &prot,
	       "protected", true);
	expect("new hard link", "link", PROTECTED, DIR "/hl-new", E, SG_FOP_LINK, &prot,
	       "protected", true);
	expect("chmod", "chmod", PROTECTED, "", E, SG_FOP_SETATTR, &prot, "protected", true);
	expect("chown", "chown", PROTECTED, "", E, SG_FOP_SETATTR, &prot, NULL, true);
	expect("utimes", "utimes", PROTECTED, "", E, SG_FOP_SETATTR, &prot, NULL, true);
	expect("read of a write-protected file", "open-r", PROTECTED, "", 0, 0, NULL, NULL, false);
	/* Other names of the same inode, made before the protection. */
	expect("write open via symlink", "open-w", DIR "/symlink", "", E, SG_FOP_OPEN_WRITE, &prot,
	       "protected", true);
	expect("write open via hard link", "open-w", DIR "/hl-before", "", E, SG_FOP_OPEN_WRITE,
	       &prot, "hl-before", true);
	expect("truncate via hard link", "truncate", DIR "/hl-before", "", E, SG_FOP_TRUNCATE,
	       &prot, "hl-before", true);
	expect("unlink of a hard link", "unlink", DIR "/hl-before", "", E, SG_FOP_UNLINK, &prot,
	       "hl-before", true);
	expect("chmod via symlink", "chmod", DIR "/symlink", "", E, SG_FOP_SETATTR, &prot, NULL,
	       true);
	/* DENY_READ: any open, either mode. */
	expect("read of a read-protected file", "open-r", SECRET, "", E, SG_FOP_OPEN_READ, &secret,
	       "secret", true);
	expect("write open of a read-protected file", "open-w", SECRET, "", E, SG_FOP_OPEN_WRITE,
	       &secret, "secret", true);

	/* What is not protected is not touched. */
	expect("unprotected: write open", "open-w", FREE, "", 0, 0, NULL, NULL, false);
	expect("unprotected: truncate", "truncate", FREE, "", 0, 0, NULL, NULL, false);
	expect("unprotected: chmod", "chmod", FREE, "", 0, 0, NULL, NULL, false);
	expect("unprotected: hard link", "link", FREE, DIR "/free-link", 0, 0, NULL, NULL, false);
	expect("unprotected: rename", "rename", DIR "/free-link", DIR "/free-moved", 0, 0, NULL,
	       NULL, false);
	expect("unprotected: unlink", "unlink", DIR "/free-moved", "", 0, 0, NULL, NULL, false);

	CHECK(access(PROTECTED, F_OK) == 0 && access(DIR "/moved", F_OK) &&
	      access(DIR "/hl-new", F_OK),
	      "the protected file is still there under its name, and only there");
}

/* An fd opened for write before the protection began, inherited by the other executable. */
static void check_preopened(int fd)
{
	struct sg_inode_key prot = key_of(PROTECTED);
	char num[16];
	int got;

	snprintf(num, sizeof(num), "%d", fd);
	expect("ftruncate of an fd opened before", "ftruncate-fd", num, "", EPERM, SG_FOP_TRUNCATE,
	       &prot, "protected", true);
	/* No hook on write(): known and documented; say what this kernel did. */
	got = run(OTHER, "write-fd", num, "", NULL);
	printf("info: write() through an fd opened before the protection: %s\n",
	       got ? strerror(got) : "went through (not hooked)");
	close(fd);
}

static void check_daemon(void)
{
	struct sg_file_guard_config cfg = { .enforce = 1, .daemon_exe = self_exe };
	unsigned before = (drain(), nevents);
	pid_t pid = 0;
	int fd, got;

	/* FILE-3: the daemon's executable changes protected files, unreported. */
	fd = open(PROTECTED, O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && write(fd, "d", 1) == 1, "daemon: writes the protected file");
	if (fd >= 0)
		close(fd);
	CHECK(chmod(PROTECTED, 0640) == 0, "daemon: chmod");
	CHECK(rename(PROTECTED, DIR "/p2") == 0 && rename(DIR "/p2", PROTECTED) == 0,
	      "daemon: renames it away and back");
	CHECK(link(PROTECTED, DIR "/p3") == 0 && unlink(DIR "/p3") == 0,
	      "daemon: links and unlinks a name");
	got = run("/proc/self/exe", "write", PROTECTED, "", &pid);
	CHECK(got == 0, "daemon: another process of the daemon's executable writes it (%s)",
	      got ? strerror(got) : "done");
	drain();
	CHECK(nevents == before, "daemon: its changes leave no record (%u new)", nevents - before);

	/* daemon_tgid: only this process is the daemon; another copy of the binary is not. */
	cfg.daemon_tgid = getpid();
	sg_file_lsm_configure(guard, &cfg);
	got = run("/proc/self/exe", "open-w", PROTECTED, "", &pid);
	CHECK(got == EPERM,
	      "daemon_tgid: the daemon's executable in another process is refused (%s)",
	      got ? strerror(got) : "done");
	drain();
	CHECK(find_event(pid, SG_FOP_OPEN_WRITE) &&
	      same_key(&find_event(pid, SG_FOP_OPEN_WRITE)->exe, &self_exe),
	      "daemon_tgid: recorded with the daemon's executable");
	fd = open(PROTECTED, O_WRONLY);
	CHECK(fd >= 0, "daemon_tgid: the daemon process itself still writes");
	if (fd >= 0)
		close(fd);
	cfg.daemon_tgid = 0;
	sg_file_lsm_configure(guard, &cfg);
}

static void check_monitor(void)
{
	struct sg_file_guard_config cfg = { .enforce = 0, .daemon_exe = self_exe };
	struct sg_inode_key prot = key_of(PROTECTED);

	sg_file_lsm_configure(guard, &cfg);
	expect("monitor: write open goes through", "open-w", PROTECTED, "", 0, SG_FOP_OPEN_WRITE,
	       &prot, "protected", false);
	expect("monitor: chmod goes through", "chmod", PROTECTED, "", 0, SG_FOP_SETATTR, &prot,
	       "protected", false);
	expect("monitor: truncate goes through", "truncate", PROTECTED, "", 0, SG_FOP_TRUNCATE,
	       &prot, "protected", false);
	cfg.enforce = 1;
	sg_file_lsm_configure(guard, &cfg);
	expect("enforce again: write open", "open-w", PROTECTED, "", EPERM, SG_FOP_OPEN_WRITE,
	       &prot, "protected", true);
}

static void check_maps(void)
{
	struct sg_file_rule w = { .rule_id = RULE_MAP_W, .deny = SG_FILE_DENY_WRITE };
	struct sg_file_rule rw = { .rule_id = RULE_MAP_RW,
				   .deny = SG_FILE_DENY_WRITE | SG_FILE_DENY_READ };
	int fw = new_map("fg_daemon_w"), frw = new_map("fg_daemon_rw"), ffree = new_map("fg_free");
	struct sg_inode_key kw = { .ino = id_of_fd(fw) }, krw = { .ino = id_of_fd(frw) };
	struct sg_inode_key kown = { .ino = map_named("sg_protected") };
	char idw[16], idrw[16], idfree[16], idown[16];
	int fd, got;
	__u32 k = 0;
	__u64 v = 0;

	CHECK(fw >= 0 && frw >= 0 && ffree >= 0 && kw.ino && krw.ino && kown.ino,
	      "BPF-7: test maps made, guard's sg_protected found (id %llu)",
	      (unsigned long long)kown.ino);
	snprintf(idw, sizeof(idw), "%llu", (unsigned long long)kw.ino);
	snprintf(idrw, sizeof(idrw), "%llu", (unsigned long long)krw.ino);
	snprintf(idfree, sizeof(idfree), "%u", id_of_fd(ffree));
	snprintf(idown, sizeof(idown), "%llu", (unsigned long long)kown.ino);
	CHECK(sg_file_lsm_guard_map(guard, fw, &w) == 0 &&
	      sg_file_lsm_guard_map(guard, frw, &rw) == 0, "BPF-7: maps guarded");
	note_rule(&kw, RULE_MAP_W);
	note_rule(&krw, RULE_MAP_RW);
	note_rule(&kown, 0);
	unlink(PIN);
	CHECK(bpf_obj_pin(fw, PIN) == 0, "BPF-7: map pinned at " PIN);

	expect("BPF-7: write fd by id", "map-fd", idw, "rw", EPERM, SG_FOP_BPF_MAP, &kw,
	       "fg_daemon_w", true);
	expect("BPF-7: write-only fd by id", "map-fd", idw, "wo", EPERM, SG_FOP_BPF_MAP, &kw, NULL,
	       true);
	expect("BPF-7: write fd of the pin", "obj-get", PIN, "rw", EPERM, SG_FOP_BPF_MAP, &kw,
	       "fg_daemon_w", true);
	expect("BPF-7: read-only fd by id (DENY_WRITE)", "map-fd", idw, "ro", 0, 0, NULL, NULL,
	       false);
	expect("BPF-7: read-only fd of the pin (DENY_WRITE)", "obj-get", PIN, "ro", 0, 0, NULL,
	       NULL, false);
	expect("BPF-7: read-only fd (DENY_READ)", "map-fd", idrw, "ro", EPERM, SG_FOP_BPF_MAP,
	       &krw, "fg_daemon_rw", true);
	expect("BPF-7: the guard's own map, read-only", "map-fd", idown, "ro", EPERM,
	       SG_FOP_BPF_MAP, &kown, "sg_protected", true);
	expect("BPF-7: an unguarded map", "map-fd", idfree, "rw", 0, 0, NULL, NULL, false);
	fd = bpf_map_get_fd_by_id(kw.ino);
	CHECK(fd >= 0, "BPF-7: the daemon gets a write fd");
	if (fd >= 0)
		close(fd);

	/* Why DENY_READ matters: a read-only fd is enough to load a program that writes. */
	got = run(OTHER, "prog-write", idw, "", NULL);
	bpf_map_lookup_elem(fw, &k, &v);
	printf("info: with a read-only fd another executable %s the DENY_WRITE map through a "
	       "program (%s, value 0x%llx)\n", v == 0x1234 ? "wrote" : "did not write",
	       got ? strerror(got) : "loaded and ran", (unsigned long long)v);
	got = run(OTHER, "prog-write", idrw, "", NULL);
	CHECK(got == EPERM, "BPF-7: no fd, so no program, for a DENY_READ map (%s)",
	      got ? strerror(got) : "done");
	unlink(PIN);
	close(fw);
	close(frw);
	close(ffree);
}

static int setup(void)
{
	mkdir(DIR, 0755);
	unlink(DIR "/hl-before");
	unlink(DIR "/symlink");
	if (write_file(PROTECTED, "original\n") || write_file(SECRET, "secret\n") ||
	    write_file(FREE, "free\n") || write_file(DIR "/intruder", "intruder\n") ||
	    link(PROTECTED, DIR "/hl-before") || symlink(PROTECTED, DIR "/symlink") ||
	    copy_self(OTHER))
		return -errno;
	return 0;
}

static int test(void)
{
	struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };
	struct sg_file_rule rp = { .rule_id = RULE_PROTECTED,
				   .deny = SG_FILE_DENY_WRITE | SG_FILE_DENY_DELETE };
	struct sg_file_rule rs = { .rule_id = RULE_SECRET, .deny = SG_FILE_DENY_READ };
	struct sg_file_guard_config cfg = { .enforce = 1 };
	struct sg_inode_key prot, secret;
	uint64_t cnt[SG_FCNT_MAX];
	char err[512] = "";
	int rc, got, early_fd;

	/* Kernels >= 5.11 charge BPF memory to the memcg; the limit may not matter. */
	if (setrlimit(RLIMIT_MEMLOCK, &r))
		printf("info: setrlimit(RLIMIT_MEMLOCK): %s; relying on memcg accounting\n",
		       strerror(errno));
	rc = setup();
	if (rc) {
		printf("FAIL: setup: %s\nfile-guard: FAIL\n", strerror(-rc));
		return 1;
	}
	self_exe = key_of("/proc/self/exe");
	other_exe = key_of(OTHER);
	prot = key_of(PROTECTED);
	secret = key_of(SECRET);
	cfg.daemon_exe = self_exe;
	early_fd = open(PROTECTED, O_WRONLY);	/* inherited by the children: no O_CLOEXEC */
	if (early_fd < 0) {
		printf("FAIL: open %s: %s\nfile-guard: FAIL\n", PROTECTED, strerror(errno));
		return 1;
	}

	rc = sg_file_lsm_start(&guard, &cfg, on_event, NULL, err, sizeof(err));
	CHECK(rc == 0, "guard started (%s)", rc ? err : "all hooks attached");
	if (rc) {
		printf("file-guard: FAIL (could not start)\n");
		return 1;
	}
	CHECK(sg_file_lsm_protect(guard, &prot, &rp) == 0 &&
	      sg_file_lsm_protect(guard, &secret, &rs) == 0, "protected %s and %s", PROTECTED,
	      SECRET);
	note_rule(&prot, RULE_PROTECTED);
	note_rule(&secret, RULE_SECRET);

	check_files();
	check_preopened(early_fd);
	check_daemon();
	check_monitor();
	check_maps();

	CHECK(sg_file_lsm_counters(guard, cnt) == 0 && cnt[SG_FCNT_DENIES] > 0 &&
	      cnt[SG_FCNT_MATCHES] > cnt[SG_FCNT_DENIES] && cnt[SG_FCNT_RB_DROPS] == 0,
	      "counters: %llu denied, %llu matched, %llu records lost",
	      (unsigned long long)cnt[SG_FCNT_DENIES], (unsigned long long)cnt[SG_FCNT_MATCHES],
	      (unsigned long long)cnt[SG_FCNT_RB_DROPS]);
	CHECK(sg_file_lsm_unprotect(guard, &secret) == 0, "unprotect");
	got = run(OTHER, "open-r", SECRET, "", NULL);
	CHECK(got == 0, "unprotected again: read goes through (%s)", got ? strerror(got) : "done");

	sg_file_lsm_stop(guard);
	for (rc = 0; rc < 50 && guard_progs_loaded(); rc++)
		usleep(20000);	/* a program goes when its last reference does */
	CHECK(guard_progs_loaded() == 0, "stopped: no sg_fg_* program left loaded");
	got = run(OTHER, "open-w", PROTECTED, "", NULL);
	CHECK(got == 0, "stopped: the formerly protected file is writable (%s)",
	      got ? strerror(got) : "done");

	if (failures) {
		printf("file-guard: FAIL (%u of %u checks)\n", failures, checks);
		return 1;
	}
	printf("file-guard: PASS (%u checks)\n", checks);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "try"))
		return try_op(argc - 2, argv + 2);
	if (argc != 1) {
		fprintf(stderr, "usage: %s [try OP [PATH [ARG]]]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	return test();
}
