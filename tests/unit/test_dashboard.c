// SPDX-License-Identifier: Apache-2.0
/* The embedded dashboard files: lookup, content types, and what the page may contain. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "report/dashboard.h"

static struct sg_asset must_get(const char *url)
{
	struct sg_asset a = { 0 };

	if (sg_dashboard_asset(url, &a)) {
		fprintf(stderr, "not embedded: %s\n", url);
		fail();
	}
	return a;
}

static const char *text_of(const char *url)
{
	struct sg_asset a = must_get(url);

	assert_int_equal(a.data[a.len], '\0');
	assert_int_equal(strlen((const char *)a.data), a.len);	/* no NUL inside a text file */
	return (const char *)a.data;
}

static void test_every_file_is_served_with_its_type(void **state)
{
	static const struct {
		const char *url, *type;
	} want[] = {
		{ "/dashboard/", "text/html; charset=utf-8" },
		{ "/dashboard/app.js", "text/javascript; charset=utf-8" },
		{ "/dashboard/shield.js", "text/javascript; charset=utf-8" },
		{ "/dashboard/denies.js", "text/javascript; charset=utf-8" },
		{ "/dashboard/chart.umd.min.js", "text/javascript; charset=utf-8" },
		{ "/dashboard/app.css", "text/css; charset=utf-8" },
		{ "/dashboard/favicon.svg", "image/svg+xml" },
	};
	size_t i;

	assert_int_equal(sg_dashboard_count(), sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct sg_asset a = must_get(want[i].url);

		assert_string_equal(a.type, want[i].type);
		assert_true(a.len > 100);
	}
	for (i = 0; i < sg_dashboard_count(); i++)
		assert_int_equal(strncmp(sg_dashboard_url(i), SG_DASHBOARD_PREFIX, strlen(SG_DASHBOARD_PREFIX)), 0);
	assert_null(sg_dashboard_url(sg_dashboard_count()));
}

static void test_only_exact_paths_are_found(void **state)
{
	static const char *const bad[] = {
		"", "/", "/dashboard", "/dashboard/index.html", "/dashboard//app.js",
		"/dashboard/./app.js", "/dashboard/../dashboard/app.js", "/dashboard/app.js/",
		"/dashboard/APP.JS", "/dashboard/app.js?x=1", "/dashboard/app.js%00",
		"/dashboard/vendor/chart.umd.min.js", "/status", "/events", "dashboard/app.js",
	};
	struct sg_asset a;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sg_dashboard_asset(bad[i], &a), -ENOENT);
	assert_int_equal(sg_dashboard_asset(NULL, &a), -ENOENT);
}

static void test_files_are_embedded_whole(void **state)
{
	const char *html = text_of("/dashboard/"), *chart = text_of("/dashboard/chart.umd.min.js");
	size_t n = strlen(html);

	assert_int_equal(strncmp(html, "<!doctype html>", 15), 0);
	assert_string_equal(html + n - 8, "</html>\n");
	assert_non_null(strstr(chart, "Chart.js v4"));
	assert_non_null(strstr(text_of("/dashboard/app.js"), "'use strict'"));
	assert_non_null(strstr(text_of("/dashboard/shield.js"), "'use strict'"));
	assert_non_null(strstr(text_of("/dashboard/denies.js"), "'use strict'"));
	assert_non_null(strstr(text_of("/dashboard/favicon.svg"), "</svg>"));
}

/* The CSP allows no inline script, so the page must not need one. */
static void test_page_has_no_inline_script_style_or_handler(void **state)
{
	static const char *const banned[] = {
		"<style", " style=", "javascript:", " onclick", " onload", " onerror", " onsubmit",
		" onchange", "<iframe", "<object", "<embed", "http://", "https://",
	};
	const char *html = text_of("/dashboard/"), *p;
	size_t i, scripts = 0;

	for (p = strstr(html, "<script"); p; p = strstr(p + 1, "<script")) {
		const char *end = strchr(p, '>');

		assert_non_null(end);
		assert_non_null(memmem(p, (size_t)(end - p), " src=\"", 6));
		assert_int_equal(strncmp(end, "></script>", 10), 0);
		scripts++;
	}
	assert_int_equal(scripts, 4);
	for (i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
		if (strcasestr(html, banned[i])) {
			fprintf(stderr, "index.html contains %s\n", banned[i]);
			fail();
		}
}

/* Every src= and href= in the page is one of the embedded files (nothing from elsewhere). */
static void test_page_loads_only_embedded_files(void **state)
{
	static const char *const attrs[] = { " src=\"", " href=\"" };
	const char *html = text_of("/dashboard/");
	char url[256];
	size_t i, refs = 0;

	for (i = 0; i < 2; i++) {
		const char *p;

		for (p = strstr(html, attrs[i]); p; p = strstr(p + 1, attrs[i])) {
			const char *v = p + strlen(attrs[i]), *end = strchr(v, '"');
			struct sg_asset a;

			assert_non_null(end);
			assert_true(end - v > 0 && end - v < 128);
			assert_int_not_equal(*v, '/');
			snprintf(url, sizeof(url), "%s%.*s", SG_DASHBOARD_PREFIX, (int)(end - v), v);
			if (sg_dashboard_asset(url, &a)) {
				fprintf(stderr, "index.html refers to %s, which is not embedded\n", url);
				fail();
			}
			refs++;
		}
	}
	assert_int_equal(refs, 6);	/* four scripts, the style sheet, the icon */
}

static void assert_not_in(const char *url, const char *text, const char *const *banned, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strstr(text, banned[i])) {
			fprintf(stderr, "%s uses %s\n", url, banned[i]);
			fail();
		}
}

/* Record values reach the page through textContent only, in every script. */
static void test_script_never_parses_html(void **state)
{
	static const char *const banned[] = {
		"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
		"new Function", "localStorage", "sessionStorage", "document.cookie", "EventSource",
		"setAttribute('style'", "cssText",
	};
	static const char *const scripts[] = {
		"/dashboard/app.js", "/dashboard/shield.js", "/dashboard/denies.js",
	};
	const char *js = text_of("/dashboard/app.js");
	size_t i;

	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		const char *text = text_of(scripts[i]);

		assert_not_in(scripts[i], text, banned, sizeof(banned) / sizeof(banned[0]));
		assert_non_null(strstr(text, "textContent"));
	}
	assert_non_null(strstr(js, "Authorization: 'Bearer '"));
}

/* Only app.js talks to the daemon (with the token); the panels get their data from it. */
static void test_panels_fetch_nothing(void **state)
{
	static const char *const banned[] = { "fetch(", "XMLHttpRequest", "WebSocket", "Bearer", "token" };

	assert_not_in("shield.js", text_of("/dashboard/shield.js"), banned, sizeof(banned) / sizeof(banned[0]));
	assert_not_in("denies.js", text_of("/dashboard/denies.js"), banned, sizeof(banned) / sizeof(banned[0]));
}

static void test_csp_allows_no_inline_code_and_no_framing(void **state)
{
	assert_non_null(strstr(SG_DASHBOARD_CSP, "default-src 'none'"));
	assert_non_null(strstr(SG_DASHBOARD_CSP, "script-src 'self';"));
	assert_non_null(strstr(SG_DASHBOARD_CSP, "connect-src 'self'"));
	assert_non_null(strstr(SG_DASHBOARD_CSP, "frame-ancestors 'none'"));
	assert_null(strstr(SG_DASHBOARD_CSP, "unsafe"));
	assert_null(strstr(SG_DASHBOARD_CSP, "data:"));
	assert_null(strstr(SG_DASHBOARD_CSP, "*"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_file_is_served_with_its_type),
		cmocka_unit_test(test_only_exact_paths_are_found),
		cmocka_unit_test(test_files_are_embedded_whole),
		cmocka_unit_test(test_page_has_no_inline_script_style_or_handler),
		cmocka_unit_test(test_page_loads_only_embedded_files),
		cmocka_unit_test(test_script_never_parses_html),
		cmocka_unit_test(test_panels_fetch_nothing),
		cmocka_unit_test(test_csp_allows_no_inline_code_and_no_framing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
