// SPDX-License-Identifier: Apache-2.0
/*
 * e2e test binary: forks at once; the child waits argv[2] seconds, then
 * creates the marker file argv[1]. The parent sleeps argv[3] seconds. A
 * denied forker killed after it ran must not leave the child to do it.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc < 4)
		return 2;
	if (fork() == 0) {
		sleep((unsigned)atoi(argv[2]));
		fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		return fd < 0 ? 3 : 0;
	}
	sleep((unsigned)atoi(argv[3]));
	return 0;
}
