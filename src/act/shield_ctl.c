// SPDX-License-Identifier: Apache-2.0
/* The daemon's end of <state-dir>/shield.sock (see shield_ctl.h). */
#include "act/shield_ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "act/shield_ops.h"
#include "report/audit.h"
#include "report/json.h"

struct sg_shield_ctl {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char pin_dir[256];
	struct sg_audit *audit;
	sg_shield_guard_fn guard;
	void *ctx;
};

struct request {
	struct ucred peer;
	char *args, *list;
	char **argv;
	uint32_t argc, list_len;
};

int sg_shield_ctl_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}

int sg_shield_ctl_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}

int sg_shield_ctl_start(struct sg_shield_ctl **out, const char *state_dir, const char *pin_dir,
			struct sg_audit *audit, sg_shield_guard_fn guard, void *ctx, char *err,
			size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sg_shield_ctl *c = calloc(1, sizeof(*c));
	mode_t old;
	int rc;

	if (!c)
		return -ENOMEM;
	c->audit = audit;
	c->guard = guard;
	c->ctx = ctx;
	snprintf(c->pin_dir, sizeof(c->pin_dir), "%s", pin_dir);
	if (snprintf(c->path, sizeof(c->path), "%s/%s", state_dir, SG_SHIELD_CTL_SOCK) >=
	    (int)sizeof(c->path)) {
		snprintf(err, errlen, "shield socket: state dir path too long");
		free(c);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, c->path, sizeof(c->path));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		goto fail;
	unlink(c->path);
	/* Only root (or the daemon's user) may connect: the socket is born 0600. */
	old = umask(0177);
	rc = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc || listen(c->fd, 8))
		goto fail;
	*out = c;
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "shield socket %s: %s", c->path, strerror(errno));
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return rc;
}

int sg_shield_ctl_fd(const struct sg_shield_ctl *c)
{
	return c ? c->fd : -1;
}

void sg_shield_ctl_stop(struct sg_shield_ctl *c)
{
	if (!c)
		return;
	close(c->fd);
	unlink(c->path);
	free(c);
}

static void request_free(struct request *r)
{
	free(r->args);
	free(r->list);
	free(r->argv);
}

/* Reads and checks one request: sizes within bounds, argc words exactly filling args. */
static int read_request(int fd, struct request *r, char *why, size_t whylen)
{
	struct sg_shield_req h;
	uint32_t i;
	char *p, *end;
	int rc = sg_shield_ctl_read_all(fd, &h, sizeof(h));

	if (rc) {
		snprintf(why, whylen, "request not read: %s", strerror(-rc));
		return rc;
	}
	if (h.magic != SG_SHIELD_CTL_MAGIC || !h.argc || h.argc > SG_SHIELD_CTL_MAX_ARGS ||
	    !h.args_len || h.args_len > SG_SHIELD_CTL_MAX_ARGLEN || h.list_len > SG_SHIELD_CTL_MAX_LIST) {
		snprintf(why, whylen, "malformed request");
		return -EINVAL;
	}
	r->args = malloc(h.args_len);
	r->list = h.list_len ? malloc(h.list_len) : NULL;
	r->argv = calloc(h.argc + 1, sizeof(*r->argv));
	if (!r->args || (h.list_len && !r->list) || !r->argv) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	rc = sg_shield_ctl_read_all(fd, r->args, h.args_len);
	if (!rc && h.list_len)
		rc = sg_shield_ctl_read_all(fd, r->list, h.list_len);
	if (rc) {
		snprintf(why, whylen, "request not read: %s", strerror(-rc));
		return rc;
	}
	if (r->args[h.args_len - 1] != '\0') {
		snprintf(why, whylen, "malformed request");
		return -EINVAL;
	}
	p = r->args;
	end = r->args + h.args_len;
	for (i = 0; i < h.argc && p < end; i++) {
		r->argv[i] = p;
		p += strlen(p) + 1;
	}
	if (i != h.argc || p != end) {
		snprintf(why, whylen, "malformed request");
		return -EINVAL;
	}
	r->argc = h.argc;
	r->list_len = h.list_len;
	return 0;
}

static void record(struct sg_shield_ctl *c, const struct request *r, int status, const char *errtext,
		   size_t errlen)
{
	char args[1024];
	size_t len = 0;
	struct sg_json j;
	uint32_t i;

	args[0] = '\0';
	for (i = 1; i < r->argc && len < sizeof(args) - 1; i++)
		len += snprintf(args + len, sizeof(args) - len, "%s%s", i > 1 ? " " : "", r->argv[i]);
	if (len >= sizeof(args))
		len = sizeof(args) - 1;
	sg_json_init(&j);
	sg_audit_begin(c->audit, &j, "shield_change", status ? SG_SEV_WARNING : SG_SEV_INFO);
	sg_json_kv_str(&j, "command", r->argc ? r->argv[0] : "");
	sg_json_kv_bytes(&j, "args", args, len);
	if (r->list_len)
		sg_json_kv_u64(&j, "list_bytes", r->list_len);
	sg_json_kv_str(&j, "result", status ? "refused" : "done");
	while (errlen && errtext[errlen - 1] == '\n')
		errlen--;
	if (status)
		sg_json_kv_bytes(&j, "error", errtext, errlen > 1024 ? 1024 : errlen);
	sg_json_kv_u64(&j, "by_uid", r->peer.uid);
	sg_json_kv_i64(&j, "by_pid", r->peer.pid);
	sg_audit_commit(c->audit, &j);
	sg_json_free(&j);
}

static void reply(int fd, int status, const char *out, size_t outlen, const char *err, size_t errlen)
{
	struct sg_shield_rep h = {
		.magic = SG_SHIELD_CTL_MAGIC, .status = status,
		.out_len = (uint32_t)outlen, .err_len = (uint32_t)errlen,
	};

	if (!sg_shield_ctl_write_all(fd, &h, sizeof(h)) && !sg_shield_ctl_write_all(fd, out, outlen))
		sg_shield_ctl_write_all(fd, err, errlen);
}

/* Runs the command with its output captured; the guard follows what the Shield's maps are. */
static int run(struct sg_shield_ctl *c, struct request *r, char **out, size_t *outlen, char **err,
	       size_t *errlen)
{
	struct sg_shield_run x = { .pin_dir = c->pin_dir, .list = r->list, .list_len = r->list_len };
	bool changes = sg_shield_op_changes(r->argv[0]);
	int status;

	x.out = open_memstream(out, outlen);
	x.err = open_memstream(err, errlen);
	if (!x.out || !x.err) {
		if (x.out)
			fclose(x.out);
		if (x.err)
			fclose(x.err);
		*out = *err = NULL;
		return -ENOMEM;
	}
	if (changes && !strcmp(r->argv[0], "unload") && c->guard)
		c->guard(c->ctx, false);
	status = sg_shield_run(&x, (int)r->argc, r->argv);
	/* attach may have created the maps; whatever failed, what is pinned is guarded. */
	if (changes && c->guard)
		c->guard(c->ctx, true);
	fclose(x.out);
	fclose(x.err);
	return status;
}

void sg_shield_ctl_handle(struct sg_shield_ctl *c)
{
	struct timeval tv = { .tv_sec = SG_SHIELD_CTL_TIMEOUT_S };
	struct request r = { 0 };
	socklen_t len = sizeof(r.peer);
	char why[256], *out = NULL, *err = NULL;
	size_t outlen = 0, errlen = 0;
	int fd, status;

	fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* Blocking from here, bounded: a client that stops sending cannot hold the loop. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &r.peer, &len)) {
		close(fd);
		return;
	}
	if (r.peer.uid != 0 && r.peer.uid != geteuid()) {
		snprintf(why, sizeof(why), "sysguardd: uid %u may not change the Shield\n", r.peer.uid);
		record(c, &r, 1, why, strlen(why));
		reply(fd, 1, "", 0, why, strlen(why));
		goto out;
	}
	if (read_request(fd, &r, why, sizeof(why))) {
		strncat(why, "\n", sizeof(why) - strlen(why) - 1);
		reply(fd, 2, "", 0, why, strlen(why));
		goto out;
	}
	status = run(c, &r, &out, &outlen, &err, &errlen);
	if (status < 0) {
		snprintf(why, sizeof(why), "sysguardd: %s\n", strerror(-status));
		reply(fd, 1, "", 0, why, strlen(why));
		goto out;
	}
	if (sg_shield_op_changes(r.argv[0]))
		record(c, &r, status, err, errlen);
	reply(fd, status, out, outlen, err, errlen);
out:
	free(out);
	free(err);
	request_free(&r);
	close(fd);
}
