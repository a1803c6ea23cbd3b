// SPDX-License-Identifier: Apache-2.0
#include "act/fanotify_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "decide/engine_script.h"
#include "report/exec_record.h"
#include "sense/host_mounts.h"
#include "sense/kdev.h"
#include "sense/proc.h"

/* Filesystems no program is run from; marking them buys nothing. */
static const char *const skip_fstypes[] = {
	"proc", "sysfs", "cgroup", "cgroup2", "bpf", "securityfs", "tracefs", "debugfs",
	"devpts", "mqueue", "pstore", "configfs", "fusectl", "binfmt_misc", "autofs",
	"efivarfs", "nsfs", "rpc_pipefs", "selinuxfs", "hugetlbfs",
};

static bool skip_fstype(const char *t)
{
	size_t i;

	for (i = 0; i < sizeof(skip_fstypes) / sizeof(skip_fstypes[0]); i++)
		if (!strcmp(t, skip_fstypes[i]))
			return true;
	return false;
}

static bool is_marked(const struct sg_fanotify_exec *fx, dev_t dev)
{
	unsigned i;

	for (i = 0; i < fx->nmarked; i++)
		if (fx->marked[i] == dev)
			return true;
	return false;
}

int sg_fanotify_exec_scan_mounts(struct sg_fanotify_exec *fx)
{
	char *line = NULL;
	size_t cap = 0;
	int added = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		unsigned maj, min;
		char mnt[4096], fstype[64], *sep;
		dev_t dev;

		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mnt) != 3)
			continue;
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%63s", fstype) != 1 || skip_fstype(fstype))
			continue;
		dev = makedev(maj, min);
		if (is_marked(fx, dev) || fx->nmarked >= SG_FAN_MAX_SB)
			continue;
		sg_mountinfo_unescape(mnt);
		if (fanotify_mark(fx->fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC_PERM,
				  AT_FDCWD, mnt)) {
			/* Mounts over which we may not see (ENOENT races, EACCES): skip. */
			fx->stats.mark_errors++;
			continue;
		}
		fx->marked[fx->nmarked++] = dev;
		fx->stats.filesystems++;
		added++;
	}
	free(line);
	fclose(f);
	return added;
}

int sg_fanotify_exec_start(struct sg_fanotify_exec *fx, struct sg_engine *engine,
			   bool use_ignore, char *err, size_t errlen)
{
	int n;

	memset(fx, 0, sizeof(*fx));
	fx->engine = engine;
	fx->use_ignore = use_ignore;
	fx->mountinfo_fd = -1;
	fx->fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK |
			       FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS,
			       O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (fx->fd < 0) {
		n = -errno;
		snprintf(err, errlen, "fanotify_init: %s", strerror(-n));
		return n;
	}
	n = sg_fanotify_exec_scan_mounts(fx);
	if (n <= 0) {
		snprintf(err, errlen, "no filesystem could be marked (%s)",
			 n < 0 ? strerror(-n) : "none found");
		sg_fanotify_exec_stop(fx);
		return n < 0 ? n : -ENOENT;
	}
	fx->mountinfo_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	return 0;
}

void sg_fanotify_exec_stop(struct sg_fanotify_exec *fx)
{
	/* Closing the group lets every pending permission event through. */
	if (fx->fd >= 0)
		close(fx->fd);
	if (fx->mountinfo_fd >= 0)
		close(fx->mountinfo_fd);
	fx->fd = -1;
	fx->mountinfo_fd = -1;
}

void sg_fanotify_exec_ignore(void *ctx, int fd)
{
	struct sg_fanotify_exec *fx = ctx;

	/* Cleared by the kernel on modify, so a changed file is decided again. */
	if (fx->use_ignore &&
	    fanotify_mark(fx->fd, FAN_MARK_ADD | FAN_MARK_IGNORE, FAN_OPEN_EXEC_PERM, fd, NULL) == 0)
		fx->stats.ignore_marks++;
}

int sg_fanotify_exec_mark_fs(void *ctx, int fd)
{
	struct sg_fanotify_exec *fx = ctx;

	if (fanotify_mark(fx->fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC_PERM, fd, NULL))
		return -errno;
	fx->stats.late_marks++;
	return 0;
}

int sg_fanotify_exec_flush_cache(struct sg_fanotify_exec *fx)
{
	/* FLUSH without MOUNT/FILESYSTEM drops inode marks only: our ignore marks. */
	if (fanotify_mark(fx->fd, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL))
		return -errno;
	return 0;
}

static void read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	buf[0] = '\0';
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

static void facts_from_event(struct sg_fanotify_exec *fx, const struct fanotify_event_metadata *m,
			     struct sg_exec_facts *f)
{
	static const char deleted[] = " (deleted)";
	char link[64];
	struct stat st;
	ssize_t n;

	sg_exec_facts_clear(f);
	f->sensor = SG_SENSOR_FANOTIFY;
	f->pid = m->pid;
	if (sg_proc_ppid(m->pid, &f->ppid) == 0)
		f->has_parent = sg_proc_exe(&fx->engine->procs, f->ppid, f->parent_path,
					    sizeof(f->parent_path)) == 0;
	snprintf(link, sizeof(link), "/proc/%d", m->pid);
	if (stat(link, &st) == 0) {
		f->uid = st.st_uid;
		f->gid = st.st_gid;
	}
	f->cgroup_id = sg_proc_cgroup_id(m->pid, fx->engine->cgroup2_root);
	sg_proc_container(&fx->engine->procs, m->pid, f->cgroup_id, fx->engine->cgroup2_root,
			  &f->container);
	snprintf(link, sizeof(link), "/proc/%d/comm", m->pid);
	read_small(link, f->comm, sizeof(f->comm));
	if (fstat(m->fd, &st) == 0) {
		f->id.dev = st.st_dev;
		f->id.ino = st.st_ino;
		f->has_id = true;
		f->fileless = st.st_nlink == 0;
	}
	/* The container first: its root names its files without reading its mount table. */
	sg_engine_workload(fx->engine, f);
	if (!sg_engine_container_host_path(f, m->fd))
		sg_engine_path_of_fd(fx->engine, f, m->fd);
	n = f->path_len;
	/* The kernel appends " (deleted)" to unlinked files; it is not part of the name. */
	if (f->has_path && f->fileless && (size_t)n > sizeof(deleted) - 1 &&
	    !memcmp(f->path + n - (sizeof(deleted) - 1), deleted, sizeof(deleted) - 1)) {
		n -= sizeof(deleted) - 1;
		f->path[n] = '\0';
		f->path_len = n;
	}
	sg_engine_container_path(f);
}

/*
 * A container's exec asks twice: for its overlay file, which the exec
 * tracepoint sees too, and for the layer's file behind it, outside the
 * container's root, which only this event names.
 */
static bool is_layer_file(const struct sg_exec_facts *f)
{
	return f->workload.id[0] && f->has_path &&
	       strncmp(f->path, f->workload.rootfs, strlen(f->workload.rootfs));
}

static int respond(struct sg_fanotify_exec *fx, int fd, bool allow)
{
	struct fanotify_response r = { .fd = fd, .response = allow ? FAN_ALLOW : FAN_DENY };

	if (write(fx->fd, &r, sizeof(r)) != sizeof(r)) {
		fx->stats.response_errors++;
		return -errno;
	}
	return 0;
}

static void handle_one(struct sg_fanotify_exec *fx, const struct fanotify_event_metadata *m)
{
	struct sg_engine *e = fx->engine;
	struct sg_exec_facts f;
	struct sg_verdict v;
	uint64_t id;
	int err;

	fx->stats.events++;
	if (!(m->mask & FAN_OPEN_EXEC_PERM)) {
		respond(fx, m->fd, true);
		return;
	}
	facts_from_event(fx, m, &f);
	sg_engine_decide(e, &f, m->fd, &v);
	/* We were asked, so the file has no ignore mark: its cached name is void. */
	if (e->kern && f.has_id) {
		struct sg_inode_key key = { .ino = f.id.ino, .dev = sg_kdev_from_st(f.id.dev) };

		sg_exec_bpf_forget_name(e->kern, &key);
	}
	/*
	 * A copy of an interpreter, or a container's own, runs its script only
	 * after the kernel knows to hold it: known before this answer, which
	 * lets the exec go on to the exec tracepoint (which never sees a layer
	 * file).
	 */
	if (v.action == SG_ACTION_ALLOW && !is_layer_file(&f) &&
	    sg_engine_interp_learn(e, &f, m->fd) < 0)
		sg_engine_deny_untracked(e, &f, &v);
	if (v.action == SG_ACTION_ALLOW) {
		fx->stats.allowed++;
		respond(fx, m->fd, true);
		/*
		 * The overlay file the exec sensor caches as on the host; an
		 * ignore mark on the layer's file (cleared by the kernel on any
		 * write) spares the next exec the round trip, as the host's
		 * execs are spared.
		 */
		if (is_layer_file(&f) && v.file_only && !f.fileless && !f.loader && e->cache_allowed)
			e->cache_allowed(e->cache_ctx, m->fd);
		return;
	}
	fx->stats.denied++;
	err = respond(fx, m->fd, false);
	id = sg_record_exec(e->audit, e->alerts, &f, &v, SG_MODE_ENFORCE, "fanotify");
	if (err)
		e->stats.mitigation_failures++;
	else
		e->stats.mitigations++;
	sg_record_mitigation(e->audit, e->alerts, &f, id, "fanotify", "deny_exec", err);
}

void sg_fanotify_exec_handle(struct sg_fanotify_exec *fx)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	ssize_t len;

	for (;;) {
		const struct fanotify_event_metadata *m = (void *)buf;

		len = read(fx->fd, buf, sizeof(buf));
		if (len <= 0)
			return;
		for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			if (m->vers != FANOTIFY_METADATA_VERSION || m->fd < 0)
				continue;
			handle_one(fx, m);
			close(m->fd);
		}
	}
}
