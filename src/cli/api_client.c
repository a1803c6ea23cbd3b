// SPDX-License-Identifier: Apache-2.0
#include "cli/api_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SG_ALERT_NO_CURL
int sg_api_get(const char *socket_path, const char *token_file, const char *path, bool follow)
{
	fprintf(stderr, "sysguardctl: this build has no HTTP client (built without libcurl)\n");
	return 1;
}
#else
#include <curl/curl.h>

struct sse {
	char line[1 << 16];
	size_t len;
};

/* SSE frames -> one JSON line per event; keep-alive comments are dropped. */
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
		if (s->len > 6 && !memcmp(s->line, "data: ", 6)) {
			fwrite(s->line + 6, 1, s->len - 6, stdout);
			fputc('\n', stdout);
			fflush(stdout);
		}
		s->len = 0;
	}
	return total;
}

static size_t body_write(char *p, size_t size, size_t n, void *ctx)
{
	return fwrite(p, size, n, stdout) * size;
}

int sg_api_get(const char *socket_path, const char *token_file, const char *path, bool follow)
{
	char token[512], auth[600], url[256];
	struct curl_slist *h = NULL;
	struct sse *sse = NULL;
	long code = 0;
	CURLcode rc;
	CURL *c;
	FILE *f = fopen(token_file, "re");
	size_t n;

	if (!f) {
		perror(token_file);
		return 1;
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
		return 1;
	h = curl_slist_append(h, auth);
	if (follow) {
		h = curl_slist_append(h, "Accept: text/event-stream");
		sse = calloc(1, sizeof(*sse));
	}
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, follow ? sse_write : body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, sse);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	if (!follow)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK)
		fprintf(stderr, "sysguardctl: %s: %s%s\n", socket_path, curl_easy_strerror(rc),
			code == 401 ? " (the token was refused)" : "");
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(sse);
	return rc == CURLE_OK ? 0 : 1;
}
#endif
