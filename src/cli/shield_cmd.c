// SPDX-License-Identifier: Apache-2.0
/*
 * sysguardctl shield: through the running daemon when one answers on
 * <state-dir>/shield.sock (BPF-7: with BPF LSM only the daemon may open the
 * Shield's maps), else directly on the pinned objects.
 */
#include "cli/shield_cmd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "act/shield.h"
#include "act/shield_ctl.h"
#include "act/shield_ops.h"
#include "store/bundle_files.h"

void sg_cli_shield_usage(FILE *out)
{
	fprintf(out,
		"  shield [--pin-dir DIR] SUBCOMMAND   XDP ingress deny list (pins under %s)\n",
		SG_SHIELD_PIN_DIR);
	sg_shield_ops_usage(out);
	fprintf(out,
		"    Sent to the running sysguardd (the one of --state-dir) through its shield.sock,\n"
		"    which checks, applies and records each change; interfaces are then those of the\n"
		"    daemon's network namespace. With no daemon (or with --pin-dir) the pinned maps are\n"
		"    edited directly, which works only where they are not guarded: a daemon on a\n"
		"    BPF LSM kernel refuses every other process access to them (docs/shield.md).\n");
}

/* -ENOENT / -ECONNREFUSED: no daemon listens (go direct); otherwise connected fd. */
static int connect_daemon(const char *state_dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", state_dir, SG_SHIELD_CTL_SOCK) >=
	    (int)sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static int copy_out(int fd, uint32_t len, FILE *to)
{
	char buf[65536];

	while (len) {
		uint32_t k = len < sizeof(buf) ? len : sizeof(buf);

		if (sg_shield_ctl_read_all(fd, buf, k))
			return -EPIPE;
		fwrite(buf, 1, k, to);
		len -= k;
	}
	return 0;
}

/* Sends argv (and `load`'s list, read here, in the caller's mount namespace); the daemon's answer. */
static int via_daemon(int fd, int argc, char **argv)
{
	struct sg_shield_req h = { .magic = SG_SHIELD_CTL_MAGIC, .argc = (uint32_t)argc };
	struct sg_shield_rep rep;
	char *list = NULL, err[4200];
	size_t len = 0;
	int i, rc;

	for (i = 0; i < argc; i++)
		h.args_len += strlen(argv[i]) + 1;
	if (!strcmp(argv[0], "load") && argc == 2) {
		if (sg_file_read_all(argv[1], SG_SHIELD_CTL_MAX_LIST, &list, &len, err, sizeof(err))) {
			fprintf(stderr, "sysguardctl: %s (nothing changed)\n", err);
			return 1;
		}
		h.list_len = (uint32_t)len;
	}
	rc = sg_shield_ctl_write_all(fd, &h, sizeof(h));
	for (i = 0; !rc && i < argc; i++)
		rc = sg_shield_ctl_write_all(fd, argv[i], strlen(argv[i]) + 1);
	if (!rc && len)
		rc = sg_shield_ctl_write_all(fd, list, len);
	free(list);
	if (!rc)
		rc = sg_shield_ctl_read_all(fd, &rep, sizeof(rep));
	if (!rc && rep.magic != SG_SHIELD_CTL_MAGIC)
		rc = -EPROTO;
	if (!rc)
		rc = copy_out(fd, rep.out_len, stdout);
	if (!rc)
		rc = copy_out(fd, rep.err_len, stderr);
	if (rc) {
		fprintf(stderr, "sysguardctl: sysguardd did not answer (%s): the Shield may or may not have"
			" changed; see shield_change in its audit log\n", strerror(-rc));
		return 1;
	}
	return rep.status;
}

int sg_cli_shield(const char *state_dir, int argc, char **argv)
{
	struct sg_shield_run x = { .pin_dir = SG_SHIELD_PIN_DIR, .out = stdout, .err = stderr };
	bool own_pins = false;
	int fd;

	argc--;
	argv++;
	if (argc >= 2 && !strcmp(argv[0], "--pin-dir")) {
		x.pin_dir = argv[1];
		own_pins = true;
		argc -= 2;
		argv += 2;
	}
	if (argc < 1) {
		sg_cli_shield_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help")) {
		sg_cli_shield_usage(stdout);
		return 0;
	}
	/* The daemon serves its own pins only; another --pin-dir is never guarded. */
	if (!own_pins) {
		fd = connect_daemon(state_dir);
		if (fd >= 0) {
			int rc = via_daemon(fd, argc, argv);

			close(fd);
			return rc;
		}
		if (fd != -ENOENT && fd != -ECONNREFUSED)
			fprintf(stderr, "sysguardctl: %s/%s: %s; editing the pinned maps directly\n",
				state_dir, SG_SHIELD_CTL_SOCK, strerror(-fd));
	}
	return sg_shield_run(&x, argc, argv);
}
