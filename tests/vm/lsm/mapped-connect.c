// SPDX-License-Identifier: Apache-2.0
/*
 * TCP connect() from an AF_INET6 socket to ::ffff:127.0.0.77:9, which the
 * policy denies as the IPv4 address 127.0.0.77: once with a full
 * sockaddr_in6 and once with the 24-byte RFC 2133 length the kernel also
 * accepts. lsm/socket_connect must refuse both (EPERM). Exit 0 only then.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int try_connect(socklen_t len)
{
	struct sockaddr_in6 sin6;
	int fd = socket(AF_INET6, SOCK_STREAM, 0), rc, e;

	if (fd < 0) {
		perror("socket(AF_INET6)");
		return -1;
	}
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(9);
	inet_pton(AF_INET6, "::ffff:127.0.0.77", &sin6.sin6_addr);
	rc = connect(fd, (struct sockaddr *)&sin6, len);
	e = rc ? errno : 0;
	printf("mapped connect, %u-byte address: rc %d errno %s\n", (unsigned)len, rc,
	       rc ? strerror(e) : "none");
	close(fd);
	return e;
}

int main(void)
{
	int full = try_connect(sizeof(struct sockaddr_in6));
	int rfc2133 = try_connect(24);

	return full == EPERM && rfc2133 == EPERM ? 0 : 1;
}
