// SPDX-License-Identifier: Apache-2.0
/*
 * connect() to 127.0.0.77:9 with an address one byte shorter than a
 * sockaddr_in. The kernel must answer EINVAL; an egress hook that read the
 * short address anyway would see the denied destination and answer EPERM.
 * Prints the errno name; exit 0 only for EINVAL.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(9);
	inet_pton(AF_INET, "127.0.0.77", &sin.sin_addr);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin) - 1);
	printf("short connect: rc %d errno %s\n", rc, rc ? strerror(errno) : "none");
	close(fd);
	return rc && errno == EINVAL ? 0 : 1;
}
