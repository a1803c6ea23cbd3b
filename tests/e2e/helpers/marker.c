// SPDX-License-Identifier: Apache-2.0
/*
 * e2e test binary: its first action is to create the marker file named by
 * argv[1] (and write its pid into it), so a test can tell that it ran a
 * single instruction of its own. argv[2], if given, is seconds to sleep
 * afterwards (to give a last-resort killer time to act). Dynamically linked
 * on purpose: the dynamic-loader bypass test runs it through ld.so.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char buf[32];
	int fd, n;

	if (argc < 2)
		return 2;
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return 3;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, n) != n)
		return 4;
	close(fd);
	if (argc > 2)
		sleep((unsigned)atoi(argv[2]));
	return 0;
}
