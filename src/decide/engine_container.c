// SPDX-License-Identifier: Apache-2.0
/*
 * The decide stage for execs in containers: which container (from the
 * runtime's state), the path as the container sees it, the policy's rules
 * scoped to that container, and drift.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decide/drift.h"
#include "decide/engine_container.h"

void sg_engine_workload(struct sg_engine *e, struct sg_exec_facts *f)
{
	bool found;

	if (!e->workloads || !f->pid)
		return;
	found = f->workload.id[0] ||
		sg_workloads_lookup(e->workloads, f->pid, f->cgroup_id, &f->workload);
	/* A new container: what the kernel knows of it (its egress scope) first. */
	if (sg_workloads_take_changed(e->workloads) && e->workloads_changed)
		e->workloads_changed(e->workloads_ctx);
	if (found)
		sg_engine_container_path(f);
}

bool sg_engine_container_host_path(struct sg_exec_facts *f, int fd)
{
	char link[64], name[PATH_MAX], full[PATH_MAX * 2];
	struct stat st;
	ssize_t n;

	if (!f->workload.id[0] || !f->has_id || fd < 0)
		return false;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	/* A mount of another namespace: the name is under that namespace's root, the container's. */
	n = readlink(link, name, sizeof(name) - 1);
	if (n <= 0 || (size_t)n >= sizeof(name) - 1 || name[0] != '/')
		return false;
	name[n] = '\0';
	if (snprintf(full, sizeof(full), "%s%s", f->workload.rootfs, name) >= (int)sizeof(f->path))
		return false;
	/* The same file (not a bind mount of another part of the root, say), or not this way. */
	if (stat(full, &st) || st.st_dev != f->id.dev || st.st_ino != f->id.ino)
		return false;
	memcpy(f->path, full, strlen(full) + 1);
	f->path_len = strlen(full);
	f->has_path = true;
	return true;
}

void sg_engine_container_path(struct sg_exec_facts *f)
{
	f->has_container_path = f->workload.id[0] && f->has_path &&
		sg_workload_container_path(&f->workload, f->path, f->container_path,
					   sizeof(f->container_path)) == 0;
	if (!f->has_container_path)
		f->container_path[0] = '\0';
}

/* Scoped identity rules: the file at `path` in this container's root is the exec'd one. */
static bool is_container_file(const char *path, void *ctx)
{
	const struct sg_exec_facts *f = ctx;
	char full[PATH_MAX * 2];
	struct stat st;

	if (!f->has_id || snprintf(full, sizeof(full), "%s%s", f->workload.rootfs, path) >=
			  (int)sizeof(full))
		return false;
	return stat(full, &st) == 0 && st.st_dev == f->id.dev && st.st_ino == f->id.ino;
}

void sg_engine_container_subject(struct sg_exec_facts *f, struct sg_container_subject *c,
				 struct sg_exec_subject *s)
{
	if (!f->workload.id[0])
		return;
	sg_workload_attrs(&f->workload, &c->attrs, c->keys, c->values);
	s->workload = &c->attrs;
	s->container_path = f->has_container_path ? f->container_path : NULL;
	s->is_container_file = is_container_file;
	s->ctx = f;
}

/*
 * Scoped path and glob rules for this container say nothing when its name
 * for the file is unknown (a volume, a bind mount from elsewhere).
 */
void sg_engine_container_fail_closed(const struct sg_policy *p, struct sg_exec_facts *f,
				     const struct sg_exec_subject *s, struct sg_verdict *v)
{
	if (!s->workload || f->has_container_path || v->action == SG_ACTION_DENY ||
	    !sg_policy_has_scoped_name_rules(p) || !sg_policy_scopes(p, s->workload))
		return;
	v->action = SG_ACTION_DENY;
	v->rule = NULL;
	v->audit = NULL;
	v->file_only = false;
	f->reason = "container_path_unknown";
}

void sg_engine_drift(const struct sg_policy *p, struct sg_exec_facts *f, int fd,
		     const struct sg_exec_subject *s, struct sg_verdict *v)
{
	const struct sg_rule *r = s->workload ? sg_policy_drift_rule(p, s->workload) : NULL;
	char link[64];
	struct stat st;
	int own = -1, rc;

	if (!r || v->action == SG_ACTION_DENY)
		return;
	if (fd < 0) {
		snprintf(link, sizeof(link), "/proc/%d/exe", f->pid);
		fd = own = open(link, O_PATH | O_CLOEXEC);
		/* It may have run another program since (a shell's last command). */
		if (fd >= 0 && f->has_id &&
		    (fstat(fd, &st) || st.st_dev != f->id.dev || st.st_ino != f->id.ino)) {
			close(fd);
			fd = own = -1;
		}
	}
	/* Gone already (monitor mode lets it run): the file by its name, if it is the same. */
	if (fd < 0 && f->has_path && f->has_id) {
		fd = own = open(f->path, O_PATH | O_CLOEXEC);
		if (fd >= 0 && (fstat(fd, &st) || st.st_dev != f->id.dev || st.st_ino != f->id.ino)) {
			close(fd);
			fd = own = -1;
		}
	}
	if (fd < 0 || fstat(fd, &st)) {
		f->drift = "file_unreadable";
		rc = 1;
	} else {
		rc = sg_drift_check(&f->workload, s->container_path, &st, &f->drift);
	}
	if (own >= 0)
		close(own);
	if (rc == 0)
		return;
	if (rc < 0)
		f->drift = "drift_check_failed";
	v->file_only = false;
	if (r->action == SG_ACTION_DENY) {
		v->action = SG_ACTION_DENY;
		v->rule = r;
		v->audit = NULL;
		f->reason = "drift";
	} else if (!v->audit) {
		v->audit = r;
	}
}
