// SPDX-License-Identifier: Apache-2.0
/*
 * A fleet client's NATS options (fleet_conn.h): servers, credentials, TLS.
 *
 * Every file is read or at least opened at start, so that a missing or
 * unreadable one stops the start with its name instead of showing up later
 * as a connection that never succeeds. A password is only ever read from a
 * file: on a command line every user of the host could see it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/fleet_conn.h"

#define RECONNECT_WAIT_MS	250
#define CONNECT_TIMEOUT_MS	2000
/* Used when TLS is asked for (tls:// URLs) without a CA of its own. */
#define SYSTEM_CA		"/etc/ssl/certs/ca-certificates.crt"
#define LINE_MAX_LEN		1024

static bool scheme_is(const char *p, const char *scheme)
{
	return !strncmp(p, scheme, strlen(scheme));
}

int sg_fleet_bus_check_url(const char *url, char *err, size_t errlen)
{
	const char *p = url, *end, *host, *colon;
	unsigned n = 0;

	if (!url || !*url) {
		snprintf(err, errlen, "no fleet URL; give nats://host:port or tls://host:port");
		return -EINVAL;
	}
	while (*p) {
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		host = scheme_is(p, "nats://") || scheme_is(p, "tls://") ? strstr(p, "://") + 3 : NULL;
		colon = host && host < end ? memchr(host, ':', (size_t)(end - host)) : NULL;
		if (!colon || colon == host || colon + 1 >= end ||
		    strspn(colon + 1, "0123456789") != (size_t)(end - colon - 1) || ++n > SG_FLEET_URLS_MAX) {
			snprintf(err, errlen, "fleet URL '%.*s' is not nats://host:port or tls://host:port "
				 "(at most %u, separated by commas)", (int)(end - p), p, SG_FLEET_URLS_MAX);
			return -EINVAL;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

/*
 * The first line of path into l1 and, unless l2 is NULL, the second into l2
 * (without their ends); -errno, or -EINVAL when the first is empty.
 */
static int first_lines(const char *path, char *l1, char *l2, size_t len)
{
	FILE *f = fopen(path, "r");
	int rc = 0;

	if (!f)
		return -errno;
	l1[0] = '\0';
	if (!fgets(l1, (int)len, f))
		rc = ferror(f) ? -EIO : -EINVAL;
	if (l2 && (rc || !fgets(l2, (int)len, f)))
		l2[0] = '\0';
	fclose(f);
	l1[strcspn(l1, "\r\n")] = '\0';
	if (l2)
		l2[strcspn(l2, "\r\n")] = '\0';
	return rc ? rc : l1[0] ? 0 : -EINVAL;
}

static int readable(const char *what, const char *path, char *err, size_t errlen)
{
	if (!path || access(path, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "fleet %s %s: %s", what, path, strerror(errno));
	return -EINVAL;
}

/* A .creds file holds the JWT between these lines; anything else is the wrong file. */
static int check_creds(const char *path, char *err, size_t errlen)
{
	char line[LINE_MAX_LEN];
	bool jwt = false;
	FILE *f;

	if (readable("credentials file", path, err, errlen))
		return -EINVAL;
	f = fopen(path, "r");
	while (f && !jwt && fgets(line, sizeof(line), f))
		jwt = strstr(line, "BEGIN NATS USER JWT") != NULL;
	if (f)
		fclose(f);
	if (jwt)
		return 0;
	snprintf(err, errlen, "fleet credentials file %s is not a NATS .creds file (no user JWT in it; "
		 "make one with nsc generate creds)", path);
	return -EINVAL;
}

/* An nkey seed file as `nk -gen user -pubout` writes it: the seed, then the public key. */
static int nkey_pub(const char *path, char *pub, size_t len, char *err, size_t errlen)
{
	char seed[LINE_MAX_LEN];
	int rc = first_lines(path, seed, pub, len);

	if (rc && rc != -EINVAL) {
		snprintf(err, errlen, "fleet nkey seed %s: %s", path, strerror(-rc));
		return -EINVAL;
	}
	rc = strncmp(seed, "SU", 2) || pub[0] != 'U' ? -EINVAL : 0;
	explicit_bzero(seed, sizeof(seed));
	if (rc)
		snprintf(err, errlen, "fleet nkey seed %s needs a user seed (SU...) on its first line and "
			 "its public key (U...) on the second, as nk -gen user -pubout writes them", path);
	return rc;
}

static int check_password(const char *path, char *err, size_t errlen)
{
	char pw[LINE_MAX_LEN];
	int rc = first_lines(path, pw, NULL, sizeof(pw));

	explicit_bzero(pw, sizeof(pw));
	if (!rc)
		return 0;
	snprintf(err, errlen, "fleet password file %s: %s", path,
		 rc == -EINVAL ? "no password on its first line" : strerror(-rc));
	return -EINVAL;
}

int sg_fleet_conn_check(const struct sg_fleet_conn_config *c, char *err, size_t errlen)
{
	char pub[LINE_MAX_LEN];
	int ways = !!c->creds + !!c->nkey_seed + !!c->user;

	if (sg_fleet_bus_check_url(c->url, err, errlen))
		return -EINVAL;
	if (ways > 1) {
		snprintf(err, errlen, "give one way to log in to the bus: a credentials file, an nkey "
			 "seed, or a user and password file");
		return -EINVAL;
	}
	if (!!c->user != !!c->password_file) {
		snprintf(err, errlen, c->user ? "the fleet user needs a password file" :
			 "the fleet password file needs a user");
		return -EINVAL;
	}
	if (!!c->tls_cert != !!c->tls_key) {
		snprintf(err, errlen, c->tls_cert ? "the fleet TLS certificate needs its key" :
			 "the fleet TLS key needs its certificate");
		return -EINVAL;
	}
	if ((c->creds && check_creds(c->creds, err, errlen)) ||
	    (c->nkey_seed && nkey_pub(c->nkey_seed, pub, sizeof(pub), err, errlen)) ||
	    (c->password_file && check_password(c->password_file, err, errlen)) ||
	    readable("TLS CA file", c->tls_ca, err, errlen) ||
	    readable("TLS certificate", c->tls_cert, err, errlen) ||
	    readable("TLS key", c->tls_key, err, errlen))
		return -EINVAL;
	return 0;
}

#ifndef SG_FLEET_NO_NATS

const char *sg_fleet_conn_error(natsStatus s)
{
	const char *last = nats_GetLastError(NULL), *p;

	if (!last || !*last)
		return natsStatus_GetText(s);
	/* libnats starts with where in its source it failed, "(conn.c:733): ": not the operator's. */
	if (last[0] == '(' && (p = strstr(last, "): ")) && !memchr(last, ' ', (size_t)(p - last)))
		return p + 3;
	return last;
}

static bool wants_tls(const struct sg_fleet_conn_config *c)
{
	const char *p;

	if (c->tls_ca || c->tls_cert)
		return true;
	for (p = c->url; p; p = strchr(p, ',')) {
		p += *p == ',';
		if (scheme_is(p, "tls://"))
			return true;
	}
	return false;
}

/* What the first failing call was about, for the operator: the setting and its file. */
static natsStatus set_auth(natsOptions *o, const struct sg_fleet_conn_config *c, const char **what)
{
	char pw[LINE_MAX_LEN], pub[LINE_MAX_LEN], e[8];
	natsStatus s = NATS_OK;
	int rc;

	if (c->creds) {
		*what = c->creds;
		s = natsOptions_SetUserCredentialsFromFiles(o, c->creds, NULL);
	} else if (c->nkey_seed) {
		*what = c->nkey_seed;
		if (nkey_pub(c->nkey_seed, pub, sizeof(pub), e, sizeof(e)))
			return NATS_INVALID_ARG;
		s = natsOptions_SetNKeyFromSeed(o, pub, c->nkey_seed);
	} else if (c->user) {
		*what = c->password_file;
		rc = first_lines(c->password_file, pw, NULL, sizeof(pw));
		if (rc)
			return NATS_INVALID_ARG;
		s = natsOptions_SetUserInfo(o, c->user, pw);
		explicit_bzero(pw, sizeof(pw));
	}
	return s;
}

static natsStatus set_tls(natsOptions *o, const struct sg_fleet_conn_config *c, const char **what)
{
	const char *ca = c->tls_ca ? c->tls_ca : SYSTEM_CA;
	natsStatus s;

	*what = "TLS";
	s = natsOptions_SetSecure(o, true);
	if (s == NATS_OK) {
		*what = ca;
		s = natsOptions_LoadCATrustedCertificates(o, ca);
	}
	if (s == NATS_OK && c->tls_cert) {
		*what = c->tls_cert;
		s = natsOptions_LoadCertificatesChain(o, c->tls_cert, c->tls_key);
	}
	return s;
}

static int split_urls(char *urls, const char **servers)
{
	int n = 0;
	char *p, *save = NULL;

	for (p = strtok_r(urls, ",", &save); p && n < SG_FLEET_URLS_MAX; p = strtok_r(NULL, ",", &save))
		servers[n++] = p;
	return n;
}

natsOptions *sg_fleet_conn_options(const struct sg_fleet_conn_config *c, char *err, size_t errlen)
{
	const char *servers[SG_FLEET_URLS_MAX], *what = "NATS client";
	char *urls = strdup(c->url);
	natsOptions *o = NULL;
	natsStatus s;
	int n;

	if (!urls) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n = split_urls(urls, servers);
	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, servers, n);
	if (s == NATS_OK && c->name)
		s = natsOptions_SetName(o, c->name);
	if (s == NATS_OK && c->reconnect_forever)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, RECONNECT_WAIT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, CONNECT_TIMEOUT_MS);
	if (s == NATS_OK && c->inbox_prefix)
		s = natsOptions_SetCustomInboxPrefix(o, c->inbox_prefix);
	if (s == NATS_OK)
		s = set_auth(o, c, &what);
	if (s == NATS_OK && wants_tls(c))
		s = set_tls(o, c, &what);
	free(urls);
	if (s == NATS_OK)
		return o;
	snprintf(err, errlen, "fleet: %s: %s", what, sg_fleet_conn_error(s));
	natsOptions_Destroy(o);
	return NULL;
}

#endif
