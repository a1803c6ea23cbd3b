// SPDX-License-Identifier: Apache-2.0
#include "cli/api_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/exit_codes.h"

#ifdef SG_ALERT_NO_CURL
static int no_curl(void)
{
	fprintf(stderr, "sysguardctl: this build has no HTTP client (built without libcurl)\n");
	return SG_EXIT_FAILED;
}

int sg_api_fetch(const char *socket_path, const char *token_file, const char *path, char **body,
		 size_t *len)
{
	return no_curl();
}

int sg_api_follow(const char *socket_path, const char *token_file, const char *path,
		  void (*on_event)(const char *json, size_t len, void *ctx), void *ctx)
{
	return no_curl();
}
#else
#include <curl/curl.h>

#define BODY_MAX (64u << 20)

struct sse {
	char line[1 << 16];
	size_t len;
	void (*on_event)(const char *json, size_t len, void *ctx);
	void *ctx;
};

struct body {
	char *buf;
	size_t len;
	int oom;
};

/* SSE frames -> one event per `data:` line; keep-alive comments are dropped. */
static size_t sse_write(char *p, size_t size, size_t n, void *ctx)
{
	struct sse *s = ctx;
	size_t i, total = size * n;

	for (i = 0; i < total; i++) {
		if (p[i] != '\n') {
			if (s->len < sizeof(s->line) - 1)
				s->line[s->len++] = p[i];
			continue;
		}
		if (s->len > 6 && !memcmp(s->line, "data: ", 6))
			s->on_event(s->line + 6, s->len - 6, s->ctx);
		s->len = 0;
	}
	return total;
}

static size_t body_write(char *p, size_t size, size_t n, void *ctx)
{
	struct body *b = ctx;
	size_t total = size * n;
	char *x;

	if (b->len + total > BODY_MAX || !(x = realloc(b->buf, b->len + total + 1))) {
		b->oom = 1;
		return 0;
	}
	memcpy(x + b->len, p, total);
	b->buf = x;
	b->len += total;
	b->buf[b->len] = '\0';
	return total;
}

static int get(const char *socket_path, const char *token_file, const char *path, struct sse *sse,
	       struct body *body)
{
	char token[512], auth[600], url[256];
	struct curl_slist *h = NULL;
	long code = 0;
	CURLcode rc;
	CURL *c;
	FILE *f = fopen(token_file, "re");
	size_t n;

	if (!f) {
		fprintf(stderr, "sysguardctl: token file %s: %s\n", token_file, strerror(errno));
		return SG_EXIT_FAILED;
	}
	n = fread(token, 1, sizeof(token) - 1, f);
	fclose(f);
	while (n && (token[n - 1] == '\n' || token[n - 1] == '\r' || token[n - 1] == ' '))
		n--;
	token[n] = '\0';
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	snprintf(url, sizeof(url), "http://localhost%s", path);
	c = curl_easy_init();
	if (!c)
		return SG_EXIT_FAILED;
	h = curl_slist_append(h, auth);
	if (sse)
		h = curl_slist_append(h, "Accept: text/event-stream");
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sse ? sse_write : body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, sse ? (void *)sse : (void *)body);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	if (!sse)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (rc == CURLE_OK)
		return SG_EXIT_OK;
	fprintf(stderr, "sysguardctl: %s: %s%s\n", socket_path,
		body && body->oom ? "answer too large" : curl_easy_strerror(rc),
		code == 401 ? " (the token was refused)" : "");
	return rc == CURLE_COULDNT_CONNECT ? SG_EXIT_NO_DAEMON : SG_EXIT_FAILED;
}

int sg_api_fetch(const char *socket_path, const char *token_file, const char *path, char **out,
		 size_t *len)
{
	struct body b = { 0 };
	int rc = get(socket_path, token_file, path, NULL, &b);

	if (rc == SG_EXIT_OK && !b.buf && !(b.buf = calloc(1, 1)))
		rc = SG_EXIT_FAILED;
	if (rc != SG_EXIT_OK) {
		free(b.buf);
		return rc;
	}
	*out = b.buf;
	*len = b.len;
	return SG_EXIT_OK;
}

int sg_api_follow(const char *socket_path, const char *token_file, const char *path,
		  void (*on_event)(const char *json, size_t len, void *ctx), void *ctx)
{
	struct sse *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return SG_EXIT_FAILED;
	s->on_event = on_event;
	s->ctx = ctx;
	rc = get(socket_path, token_file, path, s, NULL);
	free(s);
	return rc;
}
#endif
