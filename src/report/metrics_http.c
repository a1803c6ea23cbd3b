// SPDX-License-Identifier: Apache-2.0
#include "report/metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "report/bearer.h"
#include "report/siem.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#ifdef SG_API_NO_MHD
/* Static builds (the VM test) have no libmicrohttpd: the listener refuses to start. */
int sg_metrics_http_start(struct sg_metrics_http **out, const struct sg_metrics_http_config *cfg,
			  char *err, size_t errlen)
{
	*out = NULL;
	snprintf(err, errlen, "this build has no metrics listener (built without libmicrohttpd)");
	return -ENOTSUP;
}
void sg_metrics_http_set(struct sg_metrics_http *m, const char *text, size_t len) {}
void sg_metrics_http_stop(struct sg_metrics_http *m) {}
bool sg_metrics_http_tls_supported(void)
{
	return false;
}
#else
#include <microhttpd.h>

/* Whether the listener would be reachable from another host. */
static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_LOOPBACK(a))
			return true;
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	return false;
}

/* A listening TCP socket on cfg->address; sets *loopback. fd or -errno with err set. */
static int listen_on(const char *address, bool *loopback, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai = NULL;
	char host[256], why[200], portstr[16];
	unsigned port = 0;
	int fd, one = 1, rc;

	if (sg_siem_parse_address(address, 0, host, sizeof(host), &port, why, sizeof(why))) {
		snprintf(err, errlen, "metrics address: %s", why);
		return -EINVAL;
	}
	if (!port) {
		snprintf(err, errlen, "metrics address '%s' has no port (host:port)", address);
		return -EINVAL;
	}
	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "metrics address '%s': %s", address, gai_strerror(rc));
		return -EINVAL;
	}
	*loopback = is_loopback(ai->ai_addr);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		freeaddrinfo(ai);
		snprintf(err, errlen, "metrics address '%s': %s", address, strerror(-rc));
		return rc;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
		rc = -errno;
		snprintf(err, errlen, "metrics: cannot listen on %s: %s", address, strerror(-rc));
		close(fd);
		freeaddrinfo(ai);
		return rc;
	}
	freeaddrinfo(ai);
	return fd;
}


struct sg_metrics_http {
	struct MHD_Daemon *d;
	bool has_token;
	uint8_t token_hash[SG_BEARER_HASH_LEN];
	pthread_mutex_t lock;
	char *text;
	size_t len;
};

bool sg_metrics_http_tls_supported(void)
{
	return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

static bool authorized(struct sg_metrics_http *m, struct MHD_Connection *c)
{
	return !m->has_token ||
	       sg_bearer_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
			    m->token_hash);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (code == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"sysguard-metrics\"");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

#define TEXT(s) "text/plain; charset=utf-8", s, sizeof(s) - 1

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **con_cls)
{
	struct sg_metrics_http *m = cls;
	enum MHD_Result ret;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT("GET only\n"));
	if (!authorized(m, c))
		return reply(c, MHD_HTTP_UNAUTHORIZED, TEXT("missing or wrong bearer token\n"));
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, TEXT("only /metrics is served here\n"));
	pthread_mutex_lock(&m->lock);
	if (m->text)
		ret = reply(c, MHD_HTTP_OK, CONTENT_TYPE, m->text, m->len);
	else
		ret = reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT("not ready\n"));
	pthread_mutex_unlock(&m->lock);
	return ret;
}

int sg_metrics_http_start(struct sg_metrics_http **out, const struct sg_metrics_http_config *cfg,
			  char *err, size_t errlen)
{
	/* One thread answers every scrape: a handler only copies a snapshot, and clients are few. */
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
	bool tls = cfg->tls_cert_pem || cfg->tls_key_pem, loopback = false;
	struct sg_metrics_http *m;
	sigset_t all, old;
	int fd;

	*out = NULL;
	if (tls && (!cfg->tls_cert_pem || !cfg->tls_key_pem)) {
		snprintf(err, errlen, "metrics TLS needs both a certificate and its key");
		return -EINVAL;
	}
	if (tls && !sg_metrics_http_tls_supported()) {
		snprintf(err, errlen, "this libmicrohttpd has no TLS support; use a bearer token");
		return -ENOTSUP;
	}
	if (cfg->token && strlen(cfg->token) < 16) {
		snprintf(err, errlen, "metrics token must be at least 16 characters");
		return -EINVAL;
	}
	fd = listen_on(cfg->address, &loopback, err, errlen);
	if (fd < 0)
		return fd;
	if (!loopback && !cfg->token && !tls) {
		close(fd);
		snprintf(err, errlen, "metrics address %s is reachable from other hosts: give a bearer "
			 "token (--metrics-token-file) or TLS (--metrics-tls-cert and --metrics-tls-key), "
			 "or listen on 127.0.0.1", cfg->address);
		return -EPERM;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		close(fd);
		return -ENOMEM;
	}
	pthread_mutex_init(&m->lock, NULL);
	if (cfg->token) {
		m->has_token = true;
		sg_bearer_hash(cfg->token, m->token_hash);
	}
	/*
	 * Signals are the event loop's business: libmicrohttpd's thread inherits
	 * this mask, and a SIGTERM it took would kill the daemon without its
	 * clean stop (pins left enforcing).
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (tls)
		m->d = MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, handle, m,
					MHD_OPTION_LISTEN_SOCKET, fd,
					MHD_OPTION_HTTPS_MEM_CERT, cfg->tls_cert_pem,
					MHD_OPTION_HTTPS_MEM_KEY, cfg->tls_key_pem,
					MHD_OPTION_CONNECTION_LIMIT, 64u,
					MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	else
		m->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, m,
					MHD_OPTION_LISTEN_SOCKET, fd,
					MHD_OPTION_CONNECTION_LIMIT, 64u,
					MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!m->d) {
		close(fd);
		snprintf(err, errlen, "metrics: cannot serve on %s%s", cfg->address,
			 tls ? " (is the certificate and key PEM, and do they match?)" : "");
		sg_metrics_http_stop(m);
		return -EIO;
	}
	*out = m;
	return 0;
}

void sg_metrics_http_set(struct sg_metrics_http *m, const char *text, size_t len)
{
	char *copy;

	if (!m)
		return;
	copy = malloc(len + 1);
	if (!copy)
		return;		/* keep the previous snapshot */
	memcpy(copy, text, len);
	copy[len] = '\0';
	pthread_mutex_lock(&m->lock);
	free(m->text);
	m->text = copy;
	m->len = len;
	pthread_mutex_unlock(&m->lock);
}

void sg_metrics_http_stop(struct sg_metrics_http *m)
{
	if (!m)
		return;
	if (m->d)
		MHD_stop_daemon(m->d);
	sodium_memzero(m->token_hash, sizeof(m->token_hash));
	free(m->text);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
#endif
