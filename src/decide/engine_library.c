// SPDX-License-Identifier: Apache-2.0
#include "decide/engine_library.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "act/pidfd.h"
#include "report/exec_record.h"
#include "sense/file_hash.h"
#include "sense/kdev.h"

/*
 * The mapped file itself, through the process's own mapping of it
 * (/proc/PID/map_files), so a memfd, a deleted file or another namespace's
 * file is read as what the process maps, never re-resolved by name. The
 * kernel reports a fault by inode only: the name comes from here too.
 */
static int open_mapping(struct sg_exec_facts *f)
{
	char path[128], line[512], range[64];
	unsigned long long ino;
	unsigned maj, min;
	FILE *maps;
	ssize_t n;
	int fd = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/maps", f->pid);
	maps = fopen(path, "re");
	if (!maps)
		return -errno;
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%63s %*s %*s %x:%x %llu", range, &maj, &min, &ino) != 4 ||
		    ino != f->id.ino || makedev(maj, min) != f->id.dev)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/map_files/%s", f->pid, range);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		fd = fd < 0 ? -errno : fd;
		if (fd >= 0 && !f->has_path) {
			n = readlink(path, f->path, sizeof(f->path) - 1);
			f->path_len = n > 0 ? (size_t)n : 0;
			f->path[f->path_len] = '\0';
			f->has_path = n > 0;
			f->path_unknown = n <= 0;
		}
		break;
	}
	fclose(maps);
	return fd;
}

static const struct sg_rule *lib_rule(const struct sg_engine *e, uint32_t id)
{
	const struct sg_policy *libs = sg_policy_libraries(e->policy);

	return libs && id >= 1 && id <= sg_policy_rule_count(libs) ?
		sg_policy_rule(libs, id - 1) : NULL;
}

static void decide(struct sg_engine *e, struct sg_exec_facts *f, struct sg_verdict *v)
{
	const struct sg_policy *libs = sg_policy_libraries(e->policy);
	struct sg_exec_subject s = {
		.path = f->has_path ? f->path : NULL,
		.id = f->has_id ? &f->id : NULL,
		.parent_path = f->has_parent ? f->parent_path : NULL,
	};
	int fd;

	if (!libs) {
		v->action = SG_ACTION_ALLOW;
		return;
	}
	fd = f->has_path ? -1 : open_mapping(f);
	s.path = f->has_path ? f->path : NULL;
	if (sg_policy_eval(libs, &s, v) == SG_EVAL_DONE && !f->path_unknown) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (fd < 0)
		fd = open_mapping(f);
	if (fd >= 0 && sg_file_sha256(fd, e->hashes, f->sha256) == 0) {
		f->has_sha256 = true;
		s.sha256 = f->sha256;
		sg_policy_eval(libs, &s, v);
	} else {
		/* A file that cannot be read is not let run unjudged. */
		v->action = SG_ACTION_DENY;
		v->rule = NULL;
		v->audit = NULL;
		f->hash_err = fd < 0 ? fd : -EIO;
		f->reason = "library_unreadable";
	}
	if (fd >= 0)
		close(fd);
	/* A name rule cannot say "no match" about a name that is not known whole. */
	if (f->path_unknown && v->action == SG_ACTION_ALLOW && !v->rule &&
	    sg_policy_has_name_rules(libs)) {
		v->action = SG_ACTION_DENY;
		f->reason = "path_unknown";
	}
}

void sg_engine_on_library(struct sg_engine *e, struct sg_exec_facts *f,
			  const struct sg_exec_event *ev)
{
	enum sg_mode mode = sg_engine_mode(e);
	struct sg_verdict v = { .action = SG_ACTION_DENY };
	struct sg_inode_key key = ev->file;
	uint64_t id;
	int err;

	f->library = true;
	f->via_mmap = true;
	/* A fault names the inode only (the BPF LSM hooks walk the path): the name is found below. */
	if (!ev->path_len) {
		f->has_path = false;
		f->path_len = 0;
		f->path[0] = '\0';
	}
	f->has_interpreter = sg_proc_exe(&e->procs, f->pid, f->interpreter,
					 sizeof(f->interpreter)) == 0;
	if (ev->hdr.flags & (SG_F_KILLED | SG_F_LSM_DENIED)) {
		const char *backend = ev->hdr.flags & SG_F_LSM_DENIED ? "bpf_lsm" : "bpf_kill";

		v.rule = lib_rule(e, ev->rule_id);
		/* Killed before anyone could look: the rule's path is the file's name. */
		if (!f->has_path && v.rule && v.rule->pattern) {
			snprintf(f->path, sizeof(f->path), "%s", v.rule->pattern);
			f->path_len = strlen(f->path);
			f->has_path = true;
		}
		e->stats.denied++;
		id = sg_record_exec(e->audit, e->alerts, f, &v, SG_MODE_ENFORCE, backend);
		sg_record_mitigation(e->audit, e->alerts, f, id, backend,
				     ev->hdr.flags & SG_F_LSM_DENIED ? "deny_mmap_exec" :
				     "kill_at_first_instruction", 0);
		return;
	}
	if (ev->rule_id) {
		v.rule = lib_rule(e, ev->rule_id);	/* monitor mode: the kernel's match */
		if (!f->has_path) {
			int fd = open_mapping(f);

			if (fd >= 0)
				close(fd);
		}
		/* Gone already (it ran on): the rule's path is the file's name. */
		if (!f->has_path && v.rule && v.rule->pattern) {
			snprintf(f->path, sizeof(f->path), "%s", v.rule->pattern);
			f->path_len = strlen(f->path);
			f->has_path = true;
		}
	} else {
		decide(e, f, &v);
	}
	if (v.action == SG_ACTION_DENY)
		e->stats.denied++;
	else
		e->stats.allowed++;
	if (!f->held) {
		sg_record_exec(e->audit, e->alerts, f, &v, mode, NULL);
		/* Monitor mode: on record once; the kernel stops reporting this file's faults. */
		if (e->kern && mode == SG_MODE_MONITOR && !f->fileless)
			sg_exec_bpf_library_ok(e->kern, &key, ev->ctime_ns);
		return;
	}
	if (v.action == SG_ACTION_DENY) {
		id = sg_record_exec(e->audit, e->alerts, f, &v, SG_MODE_ENFORCE, "bpf_hold");
		err = sg_pidfd_signal(f->pid, SIGKILL, NULL);
		sg_record_mitigation(e->audit, e->alerts, f, id, "pidfd_kill", "kill_held",
				     err == -ESRCH ? 0 : err);
		return;
	}
	id = sg_record_exec(e->audit, e->alerts, f, &v, SG_MODE_ENFORCE, NULL);
	/* The kernel asks no more about this file while it is unchanged (not a memfd: no name). */
	if (e->kern && v.file_only && !f->fileless)
		sg_exec_bpf_library_ok(e->kern, &key, ev->ctime_ns);
	err = e->kern ? sg_exec_bpf_release(e->kern, f->pid) : 0;
	if (!err)
		err = sg_pidfd_signal(f->pid, SIGCONT, NULL);
	if (err)
		sg_record_mitigation(e->audit, e->alerts, f, id, "pidfd", "resume_held", err);
}
