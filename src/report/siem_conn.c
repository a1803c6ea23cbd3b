// SPDX-License-Identifier: Apache-2.0
/*
 * The SIEM export's connection to its receiver (siem_int.h): the address
 * parsed, resolved at every attempt, a TCP connection tuned so that a
 * silent receiver is noticed, TLS on it, writes, and the wait on it that a
 * stop's drain time can cut short.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SG_SIEM_NO_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#endif

#include "report/siem_int.h"

int sg_siem_transport_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "tcp"))
		return SG_SIEM_TCP;
	if (!strcmp(s, "tls"))
		return SG_SIEM_TLS;
	return -1;
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

static bool v6_char(char c)
{
	return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') ||
	       c == ':' || c == '.';
}

int sg_siem_parse_address(const char *addr, unsigned default_port, char *host, size_t hostlen,
			  unsigned *port, char *err, size_t errlen)
{
	const char *h, *hend, *p = NULL, *c;
	unsigned long v;
	char *end;

	if (!addr || !*addr) {
		snprintf(err, errlen, "no address; give host:port");
		return -EINVAL;
	}
	if (addr[0] == '[') {
		h = addr + 1;
		hend = strchr(h, ']');
		if (!hend) {
			snprintf(err, errlen, "address '%s' has '[' without ']'", addr);
			return -EINVAL;
		}
		for (c = h; c < hend; c++) {
			if (!v6_char(*c)) {
				snprintf(err, errlen, "address '%s': not an IPv6 address in brackets", addr);
				return -EINVAL;
			}
		}
		if (hend[1] == ':')
			p = hend + 2;
		else if (hend[1]) {
			snprintf(err, errlen, "address '%s': expected ':port' after ']'", addr);
			return -EINVAL;
		}
	} else {
		h = addr;
		hend = strchr(addr, ':');
		if (hend && strchr(hend + 1, ':')) {
			snprintf(err, errlen, "address '%s': write an IPv6 address as [addr]:port", addr);
			return -EINVAL;
		}
		if (hend)
			p = hend + 1;
		else
			hend = addr + strlen(addr);
		for (c = h; c < hend; c++) {
			if (!host_char(*c)) {
				snprintf(err, errlen, "address '%s': a host name has only letters, digits, "
					 "'.', '-' and '_'", addr);
				return -EINVAL;
			}
		}
	}
	if (hend == h) {
		snprintf(err, errlen, "address '%s' has no host", addr);
		return -EINVAL;
	}
	if ((size_t)(hend - h) >= hostlen) {
		snprintf(err, errlen, "address '%s': the host is too long", addr);
		return -EINVAL;
	}
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	if (!p) {
		*port = default_port;
		return 0;
	}
	errno = 0;
	v = strtoul(p, &end, 10);
	if (!*p || *end || errno || v == 0 || v > 65535 || *p < '0' || *p > '9') {
		snprintf(err, errlen, "address '%s': the port must be 1-65535", addr);
		return -EINVAL;
	}
	*port = (unsigned)v;
	return 0;
}


/* ------------------------------------------------------------------ */
/* The worker: waiting.                                                */

void siem_drain_wake(struct sg_siem *s)
{
	uint64_t v;

	if (read(s->wake_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing was pending. */
	}
}

/* Note a stop request; true when the drain time is over. */
bool siem_stop_due(struct sg_siem *s, uint64_t now)
{
	if (!atomic_load(&s->stopping))
		return false;
	if (!s->stop_deadline_ms)
		s->stop_deadline_ms = now + atomic_load(&s->drain_ms) + 1;
	return now >= s->stop_deadline_ms;
}

/*
 * Wait until the socket is ready for `events` (or has an error). 0 when
 * ready, -ETIMEDOUT at deadline_ms (0: none), -ECANCELED when a stop's drain
 * time is over.
 */
static int wait_io(struct sg_siem *s, short events, uint64_t deadline_ms)
{
	struct pollfd p[2] = {
		{ .fd = s->fd, .events = events },
		{ .fd = s->wake_fd, .events = POLLIN },
	};
	uint64_t now, until;
	int n;

	for (;;) {
		now = mono_ms();
		if (siem_stop_due(s, now))
			return -ECANCELED;
		if (deadline_ms && now >= deadline_ms)
			return -ETIMEDOUT;
		until = deadline_ms;
		if (s->stop_deadline_ms && (!until || s->stop_deadline_ms < until))
			until = s->stop_deadline_ms;
		n = poll(p, 2, until ? (int)(until - now) : -1);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && p[1].revents)
			siem_drain_wake(s);
		if (n > 0 && p[0].revents)
			return 0;
	}
}

/* ------------------------------------------------------------------ */
/* The worker: one connection.                                         */

bool siem_is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

#ifndef SG_SIEM_NO_TLS
static void tls_reason(char *why, size_t whylen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[200];

	if (e) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(why, whylen, "%s: %s", what, buf);
	} else {
		snprintf(why, whylen, "%s", what);
	}
	ERR_clear_error();
}

static int tls_handshake(struct sg_siem *s, char *why, size_t whylen)
{
	uint64_t deadline = mono_ms() + CONNECT_TIMEOUT_MS;
	long vr;
	int rc, e, w;

	s->ssl = SSL_new(s->ctx);
	if (!s->ssl || SSL_set_fd(s->ssl, s->fd) != 1) {
		tls_reason(why, whylen, "cannot set up TLS");
		return -ENOMEM;
	}
	if (siem_is_ip_literal(s->server_name)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), s->server_name) != 1) {
			tls_reason(why, whylen, "cannot set the server address to verify");
			return -EINVAL;
		}
	} else if (SSL_set_tlsext_host_name(s->ssl, s->server_name) != 1 ||
		   SSL_set1_host(s->ssl, s->server_name) != 1) {
		tls_reason(why, whylen, "cannot set the server name to verify");
		return -EINVAL;
	}
	for (;;) {
		ERR_clear_error();
		rc = SSL_connect(s->ssl);
		if (rc == 1)
			return 0;
		e = SSL_get_error(s->ssl, rc);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			w = wait_io(s, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
			if (w) {
				snprintf(why, whylen, "TLS handshake: %s",
					 w == -ETIMEDOUT ? "timed out" : strerror(-w));
				return w;
			}
			continue;
		}
		vr = SSL_get_verify_result(s->ssl);
		if (vr != X509_V_OK) {
			snprintf(why, whylen, "TLS: the server certificate does not verify for '%s': %s",
				 s->server_name, X509_verify_cert_error_string(vr));
			ERR_clear_error();
		} else if (e == SSL_ERROR_SYSCALL && !ERR_peek_error()) {
			snprintf(why, whylen, "TLS handshake: %s",
				 errno ? strerror(errno) : "the server closed the connection");
		} else {
			tls_reason(why, whylen, "TLS handshake failed");
		}
		return -EPROTO;
	}
}
#endif

uint64_t siem_conn_written(struct sg_siem *s)
{
#ifndef SG_SIEM_NO_TLS
	if (s->ssl)
		return BIO_number_written(SSL_get_wbio(s->ssl));
#endif
	return s->written;
}

void siem_conn_close(struct sg_siem *s)
{
#ifndef SG_SIEM_NO_TLS
	if (s->ssl) {
		ERR_clear_error();
		/* close_notify if the socket takes it; no wait for the answer. */
		if (SSL_is_init_finished(s->ssl))
			SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
		s->ssl = NULL;
		ERR_clear_error();
	}
#endif
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->written = 0;
}

static void tune_socket(int fd)
{
	int one = 1, idle = 60, intvl = 10, cnt = 3;
	unsigned ut = USER_TIMEOUT_MS;

	/* Best effort: a receiver that vanishes without a RST is found by these. */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut));
}

#ifndef SG_SIEM_NO_TLS
/* The receiver's addresses; resolved at every attempt, so a changed DNS record is followed. */
static int resolve(struct sg_siem *s, struct addrinfo **res, char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	char port[8];
	int rc;

	snprintf(port, sizeof(port), "%u", s->port);
	rc = getaddrinfo(s->host, port, &hints, res);
	if (rc) {
		snprintf(why, whylen, "cannot resolve %s: %s", s->host,
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	return 0;
}

static void resolve_free(struct addrinfo *res)
{
	freeaddrinfo(res);
}
#else
/* The static build links no NSS, so no getaddrinfo(): numeric addresses only (checked at start). */
struct numeric_addr {
	struct addrinfo ai;	/* first: the pointer handed out is the allocation */
	struct sockaddr_in6 sa;
};

static int resolve(struct sg_siem *s, struct addrinfo **res, char *why, size_t whylen)
{
	struct numeric_addr *r = calloc(1, sizeof(*r));
	struct sockaddr_in *v4;

	if (!r) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	v4 = (struct sockaddr_in *)&r->sa;
	if (inet_pton(AF_INET, s->host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)s->port);
		r->ai.ai_family = AF_INET;
		r->ai.ai_addrlen = sizeof(*v4);
	} else if (inet_pton(AF_INET6, s->host, &r->sa.sin6_addr) == 1) {
		r->sa.sin6_family = AF_INET6;
		r->sa.sin6_port = htons((uint16_t)s->port);
		r->ai.ai_family = AF_INET6;
		r->ai.ai_addrlen = sizeof(r->sa);
	} else {
		free(r);
		snprintf(why, whylen, "not a numeric address");
		return -EINVAL;
	}
	r->ai.ai_socktype = SOCK_STREAM;
	r->ai.ai_addr = (struct sockaddr *)&r->sa;
	*res = &r->ai;
	return 0;
}

static void resolve_free(struct addrinfo *res)
{
	free(res);
}
#endif

/* TCP connection to the first address that answers, then TLS. 0 or -errno with why. */
int siem_conn_open(struct sg_siem *s, char *why, size_t whylen)
{
	struct addrinfo *res = NULL, *ai;
	int rc, soerr, w;
	socklen_t sl;

	rc = resolve(s, &res, why, whylen);
	if (rc)
		return rc;
	rc = -ECONNREFUSED;
	snprintf(why, whylen, "no address to connect to");
	for (ai = res; ai; ai = ai->ai_next) {
		s->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fd < 0) {
			rc = -errno;
			snprintf(why, whylen, "socket: %s", strerror(errno));
			continue;
		}
		tune_socket(s->fd);
		if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			w = wait_io(s, POLLOUT, mono_ms() + CONNECT_TIMEOUT_MS);
			if (!w) {
				soerr = 0;
				sl = sizeof(soerr);
				if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl))
					soerr = errno;
				if (!soerr)
					break;
				errno = soerr;
			} else {
				errno = w == -ETIMEDOUT ? ETIMEDOUT : -w;
			}
		}
		rc = -errno;
		snprintf(why, whylen, "connect: %s", strerror(errno));
		close(s->fd);
		s->fd = -1;
		if (rc == -ECANCELED)
			break;
	}
	resolve_free(res);
	if (s->fd < 0)
		return rc;
	s->written = 0;
#ifndef SG_SIEM_NO_TLS
	if (s->transport == SG_SIEM_TLS) {
		rc = tls_handshake(s, why, whylen);
		if (rc) {
			siem_conn_close(s);
			return rc;
		}
	}
#endif
	return 0;
}

/* Write all of buf. 0, or -errno with why. */
int siem_conn_write(struct sg_siem *s, const char *buf, size_t len, char *why, size_t whylen)
{
	ssize_t n;
	int w;

#ifndef SG_SIEM_NO_TLS
	if (s->ssl) {
		int rc, e;

		for (;;) {
			ERR_clear_error();
			rc = SSL_write(s->ssl, buf, (int)len);
			if (rc > 0)
				return 0;
			e = SSL_get_error(s->ssl, rc);
			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
				w = wait_io(s, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 0);
				if (w) {
					snprintf(why, whylen, "%s", strerror(-w));
					return w;
				}
				continue;
			}
			if (e == SSL_ERROR_SYSCALL && !ERR_peek_error())
				snprintf(why, whylen, "%s", errno ? strerror(errno) : "connection closed");
			else
				tls_reason(why, whylen, "TLS write failed");
			return -EIO;
		}
	}
#endif
	while (len) {
		n = send(s->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			s->written += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			w = wait_io(s, POLLOUT, 0);
			if (w) {
				snprintf(why, whylen, "%s", strerror(-w));
				return w;
			}
			continue;
		}
		snprintf(why, whylen, "%s", n < 0 ? strerror(errno) : "connection closed");
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

/*
 * The socket is readable. A syslog receiver sends nothing but TLS
 * housekeeping, so this is either that or the end of the connection. 0 while
 * the connection stands; -errno with why when it is gone.
 */
int siem_conn_check(struct sg_siem *s, char *why, size_t whylen)
{
	char buf[512];
	ssize_t n;

#ifndef SG_SIEM_NO_TLS
	if (s->ssl) {
		int rc, e;

		ERR_clear_error();
		rc = SSL_read(s->ssl, buf, sizeof(buf));
		if (rc > 0)
			return 0;
		e = SSL_get_error(s->ssl, rc);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return 0;
		if (e == SSL_ERROR_ZERO_RETURN)
			snprintf(why, whylen, "the receiver closed the TLS session");
		else if (e == SSL_ERROR_SYSCALL && !ERR_peek_error())
			snprintf(why, whylen, "%s", errno ? strerror(errno) : "the receiver closed the connection");
		else
			tls_reason(why, whylen, "TLS read failed");
		return -EPIPE;
	}
#endif
	n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
		return 0;
	snprintf(why, whylen, "%s", n == 0 ? "the receiver closed the connection" : strerror(errno));
	return -EPIPE;
}


#ifndef SG_SIEM_NO_TLS
int siem_setup_tls(struct sg_siem *s, const struct sg_siem_config *cfg, char *err, size_t errlen)
{
	char why[WHY_LEN];

	ERR_clear_error();
	s->ctx = SSL_CTX_new(TLS_client_method());
	if (!s->ctx) {
		tls_reason(why, sizeof(why), "cannot create a TLS context");
		goto fail;
	}
	SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_options(s->ctx, SSL_OP_NO_RENEGOTIATION);
	if (cfg->ca_file) {
		if (SSL_CTX_load_verify_locations(s->ctx, cfg->ca_file, NULL) != 1) {
			tls_reason(why, sizeof(why), "no CA certificate could be loaded");
			snprintf(err, errlen, "siem: CA file %s: %s", cfg->ca_file, why);
			return -EINVAL;
		}
	} else if (SSL_CTX_set_default_verify_paths(s->ctx) != 1) {
		tls_reason(why, sizeof(why), "cannot load the system's CA certificates");
		goto fail;
	}
	if (cfg->cert_file) {
		if (SSL_CTX_use_certificate_chain_file(s->ctx, cfg->cert_file) != 1) {
			tls_reason(why, sizeof(why), "not a PEM certificate chain");
			snprintf(err, errlen, "siem: certificate %s: %s", cfg->cert_file, why);
			return -EINVAL;
		}
		if (SSL_CTX_use_PrivateKey_file(s->ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(s->ctx) != 1) {
			tls_reason(why, sizeof(why), "not the PEM key of the certificate");
			snprintf(err, errlen, "siem: key %s: %s", cfg->key_file, why);
			return -EINVAL;
		}
	}
	return 0;
fail:
	snprintf(err, errlen, "siem: %s", why);
	return -EINVAL;
}
#endif
