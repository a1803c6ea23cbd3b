// SPDX-License-Identifier: Apache-2.0
/*
 * Scripts read by a running interpreter (`. FILE`, `source FILE`, an
 * import): fanotify open-permission marks on the files the exec rules deny
 * by path or identity, and on the directories of deny globs, so only opens
 * of those cost a round trip. An interpreter opening one is refused;
 * anyone else (an editor, cat, a backup) is let through.
 */
#include "act/fanotify_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decide/engine_script.h"
#include "policy/glob.h"
#include "report/exec_record.h"
#include "sense/proc.h"

static int mark(struct sg_fanotify_exec *fx, const char *path, unsigned long long mask)
{
	if (fanotify_mark(fx->fd, FAN_MARK_ADD, mask, AT_FDCWD, path))
		return -errno;
	fx->stats.script_marks++;
	return 1;
}

int sg_fanotify_script_marks(struct sg_fanotify_exec *fx, const struct sg_policy *p)
{
	size_t i, n = sg_policy_rule_count(p);
	char dir[PATH_MAX];
	int marks = 0;

	fx->stats.script_marks = 0;
	if (!sg_policy_scripts(p)->on)
		return 0;
	for (i = 0; i < n; i++) {
		const struct sg_rule *r = sg_policy_rule(p, i);
		size_t len;

		if (r->action == SG_ACTION_ALLOW || r->scope || !r->pattern)
			continue;
		if (r->kind == SG_MATCH_PATH || r->kind == SG_MATCH_IDENTITY) {
			/* A file that is not there yet has no inode to mark: exec rules still hold. */
			if (mark(fx, r->pattern, FAN_OPEN_PERM) > 0)
				marks++;
		} else if (r->kind == SG_MATCH_GLOB) {
			len = sg_glob_literal_dir(r->pattern);
			/* "/x*" would watch every open in "/": not worth every open's round trip. */
			if (len <= 1 || len >= sizeof(dir))
				continue;
			memcpy(dir, r->pattern, len - 1);
			dir[len - 1] = '\0';
			if (mark(fx, dir, FAN_OPEN_PERM | FAN_EVENT_ON_CHILD) > 0)
				marks++;
		}
	}
	return marks;
}

static bool opener_is_interpreter(struct sg_fanotify_exec *fx, pid_t pid, char *exe, size_t len)
{
	char link[64];
	struct sg_file_id id;
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	if (stat(link, &st))
		return false;
	id.dev = st.st_dev;
	id.ino = st.st_ino;
	if (!sg_engine_is_interpreter(fx->engine, &id))
		return false;
	n = readlink(link, exe, len - 1);
	exe[n > 0 ? n : 0] = '\0';
	return true;
}

void sg_fanotify_script_open(struct sg_fanotify_exec *fx, const struct fanotify_event_metadata *m)
{
	struct sg_engine *e = fx->engine;
	struct sg_verdict v = { .action = SG_ACTION_ALLOW };
	struct sg_exec_facts f;
	char exe[PATH_MAX];
	struct stat st;
	uint64_t id;
	int err;

	/* Directories, devices, and everyone but an interpreter: not a script being run. */
	if (fstat(m->fd, &st) || !S_ISREG(st.st_mode) ||
	    !opener_is_interpreter(fx, m->pid, exe, sizeof(exe))) {
		sg_fanotify_exec_respond(fx, m->fd, true);
		return;
	}
	sg_fanotify_exec_facts(fx, m, &f);
	memcpy(f.interpreter, exe, strlen(exe) + 1);
	f.has_interpreter = exe[0] != '\0';
	f.script = "sourced";
	sg_engine_decide(e, &f, m->fd, &v);
	if (v.action == SG_ACTION_ALLOW) {
		sg_fanotify_exec_respond(fx, m->fd, true);
		return;
	}
	fx->stats.script_denied++;
	err = sg_fanotify_exec_respond(fx, m->fd, false);
	id = sg_record_exec(e->audit, e->alerts, &f, &v, SG_MODE_ENFORCE, "fanotify");
	sg_record_mitigation(e->audit, e->alerts, &f, id, "fanotify", "deny_script_open", err);
}
