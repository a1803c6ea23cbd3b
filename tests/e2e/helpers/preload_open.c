// SPDX-License-Identifier: Apache-2.0
/*
 * LD_PRELOAD library: its constructor opens $SG_PRELOAD_PATH with the
 * access mode in $SG_PRELOAD_MODE ("write" or "read") before the host
 * program's main() runs, writes {"pid":..,"errno":..} to $SG_PRELOAD_OUT
 * and exits. Hosted by the daemon's own executable, it asks whether the
 * guard exempts a process for running that binary.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void preload_open(void)
{
	const char *path = getenv("SG_PRELOAD_PATH"), *mode = getenv("SG_PRELOAD_MODE");
	const char *out = getenv("SG_PRELOAD_OUT");
	int write_mode = mode && !strcmp(mode, "write");
	int fd, err = 0;
	FILE *f;

	if (!path || !out)
		return;
	fd = open(path, write_mode ? O_WRONLY | O_APPEND : O_RDONLY);
	if (fd < 0) {
		err = errno;
	} else {
		if (write_mode && write(fd, "PWNED", 5) < 0)
			err = errno;
		close(fd);
	}
	f = fopen(out, "w");
	if (f) {
		fprintf(f, "{\"pid\":%d,\"errno\":%d}\n", getpid(), err);
		fclose(f);
	}
	/* Never run the host's main(): it is the daemon. */
	_exit(0);
}
