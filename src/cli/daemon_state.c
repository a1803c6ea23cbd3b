// SPDX-License-Identifier: Apache-2.0
/* The running daemon seen through its state files (see daemon_state.h). */
#include "cli/daemon_state.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/bundle_files.h"

#define POLL_MS 50

int sg_read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

int sg_state_read(const char *state_dir, const char *name, char **buf, size_t *len)
{
	char path[4200], err[512], *b = NULL, *z;
	size_t n = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", state_dir, name);
	rc = sg_file_read_all(path, 64u << 20, &b, &n, err, sizeof(err));
	if (rc)
		return rc;
	z = realloc(b, n + 1);
	if (!z) {
		free(b);
		return -ENOMEM;
	}
	z[n] = '\0';
	*buf = z;
	*len = n;
	return 0;
}

pid_t sg_daemon_pid(const char *state_dir)
{
	char path[4200], buf[4096], comm[32] = "";
	const char *p;
	long pid;
	FILE *f;

	snprintf(path, sizeof(path), "%s/ready", state_dir);
	if (sg_read_small(path, buf, sizeof(buf)))
		return -1;
	p = strstr(buf, "\"pid\":");
	if (!p || (pid = strtol(p + 6, NULL, 10)) <= 1)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return strncmp(comm, "sysguardd", 9) ? -1 : (pid_t)pid;
}

int sg_ready_field(const char *state_dir, const char *key, char *out, size_t len)
{
	char ready[8192], path[4200], want[64], *b, *e;

	snprintf(path, sizeof(path), "%s/ready", state_dir);
	if (sg_daemon_pid(state_dir) < 0 || sg_read_small(path, ready, sizeof(ready)))
		return -1;
	snprintf(want, sizeof(want), "\"%s\":\"", key);
	b = strstr(ready, want);
	if (!b)
		return -1;
	b += strlen(want);
	e = strchr(b, '"');
	if (!e || memchr(b, '\\', e - b) || (size_t)(e - b) >= len)
		return -1;
	memcpy(out, b, e - b);
	out[e - b] = '\0';
	return 0;
}

void sg_state_stamp(const char *state_dir, const char *name, struct sg_state_stamp *st)
{
	char path[4200];
	struct stat s;

	snprintf(path, sizeof(path), "%s/%s", state_dir, name);
	st->ok = stat(path, &s) == 0;
	if (st->ok) {
		st->mtim = s.st_mtim;
		st->ino = s.st_ino;
	}
}

bool sg_state_changed(const char *state_dir, const char *name, const struct sg_state_stamp *before)
{
	struct sg_state_stamp now;

	sg_state_stamp(state_dir, name, &now);
	return now.ok && (!before->ok || now.ino != before->ino ||
			  now.mtim.tv_sec != before->mtim.tv_sec ||
			  now.mtim.tv_nsec != before->mtim.tv_nsec);
}

/* The daemon's answer to a reload: "applied V", "unchanged" or "refused: why". */
static int reload_answer(const struct sg_cli *cli, pid_t pid)
{
	char path[4200], buf[512] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/reload.result", cli->state_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
	}
	buf[strcspn(buf, "\n")] = '\0';
	if (!strncmp(buf, "applied", 7) || !strcmp(buf, "unchanged"))
		return SG_EXIT_OK;
	fprintf(stderr, "sysguardd (pid %d) kept its policy: %s\n", (int)pid,
		buf[0] ? buf : "no answer");
	return SG_EXIT_FAILED;
}

int sg_daemon_reload(const struct sg_cli *cli, unsigned timeout_ms, bool mode_only)
{
	/* Break-glass changes the mode even when the policy file is broken: ready says so. */
	const char *answer = mode_only ? "ready" : "reload.result";
	struct sg_state_stamp before;
	pid_t pid = sg_daemon_pid(cli->state_dir);
	unsigned waited;

	if (pid < 0)
		return sg_cli_no_daemon(cli, NULL);
	sg_state_stamp(cli->state_dir, answer, &before);
	if (kill(pid, SIGHUP)) {
		fprintf(stderr, "sysguardctl: reload: signal to sysguardd (pid %d): %s\n", (int)pid,
			strerror(errno));
		return SG_EXIT_FAILED;
	}
	for (waited = 0; waited < timeout_ms; waited += POLL_MS) {
		usleep(POLL_MS * 1000);
		if (sg_state_changed(cli->state_dir, answer, &before))
			return mode_only ? SG_EXIT_OK : reload_answer(cli, pid);
		if (kill(pid, 0) && errno == ESRCH) {
			fprintf(stderr, "sysguardctl: sysguardd (pid %d) stopped during the reload\n", (int)pid);
			return SG_EXIT_FAILED;
		}
	}
	fprintf(stderr, "sysguardctl: sysguardd (pid %d) kept its policy (no answer within %u.%03us):"
		" see policy_error in its audit log\n", (int)pid, timeout_ms / 1000, timeout_ms % 1000);
	return SG_EXIT_FAILED;
}

bool sg_parse_timeout(const char *s, unsigned *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 3600)
		return false;
	*ms = (unsigned)(v * 1000 + 0.5);
	if (!*ms)
		*ms = 1;
	return true;
}

long long sg_process_uptime_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	double up = 0;
	long hz = sysconf(_SC_CLK_TCK);
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (hz <= 0 || sg_read_small(path, buf, sizeof(buf)))
		return -1;
	/* Field 22 is the start time in clock ticks after boot; comm (2) may hold spaces. */
	p = strrchr(buf, ')');
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return -1;
	if (sg_read_small("/proc/uptime", buf, sizeof(buf)) || sscanf(buf, "%lf", &up) != 1)
		return -1;
	return up > (double)start / hz ? (long long)(up - (double)start / hz) : 0;
}
