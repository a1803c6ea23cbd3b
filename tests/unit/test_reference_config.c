// SPDX-License-Identifier: Apache-2.0
/*
 * The reference config deploy/sysguard.yaml (installed as
 * /etc/sysguard/sysguard.yaml) is read the way the daemon reads it: with
 * sg_config_parse and sg_config_check_keys against the daemon's own list of
 * known keys, taken from the daemon's source so that a key added there and
 * not documented here fails this test. Run from the top of the tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define REFERENCE "deploy/sysguard.yaml"
#define MAX_KEYS 128

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

/*
 * The daemon's `config_keys[] = { "a", "b.c", ..., NULL }`, wherever under
 * src/ it lives (src/sysguardd.c today, src/daemon/ or src/config/ later).
 */
static size_t daemon_known_keys(char **keys, size_t max)
{
	const char *const patterns[] = { "src/*.c", "src/*/*.c" };
	size_t n = 0, p, i;

	for (p = 0; p < 2 && n == 0; p++) {
		glob_t g;

		if (glob(patterns[p], 0, NULL, &g))
			continue;
		for (i = 0; i < g.gl_pathc && n == 0; i++) {
			size_t len;
			char *src = slurp(g.gl_pathv[i], &len), *s, *end;

			s = src ? strstr(src, "config_keys[] = {") : NULL;
			end = s ? strstr(s, "NULL") : NULL;
			while (s && end && (s = strchr(s, '"')) && s < end && n < max) {
				char *q = strchr(s + 1, '"');

				keys[n++] = strndup(s + 1, q - s - 1);
				s = q + 1;
			}
			free(src);
		}
		globfree(&g);
	}
	keys[n] = NULL;
	return n;
}

/* The reference config with every switched-off setting (`#key:`, `#  key:`) switched on. */
static char *all_settings_on(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;
	const char *line = text;
	regex_t re;

	assert_int_equal(regcomp(&re, "^#(  )?[a-z_]+:( |$)", REG_EXTENDED | REG_NOSUB), 0);
	while (*line) {
		const char *nl = strchrnul(line, '\n');
		char one[512];
		size_t len = nl - line;

		assert_true(len < sizeof(one));
		memcpy(one, line, len);
		one[len] = '\0';
		if (!regexec(&re, one, 0, NULL, 0))
			line++, len--;
		memcpy(o, line, len);
		o += len;
		if (*nl)
			*o++ = '\n';
		line = *nl ? nl + 1 : nl;
	}
	*o = '\0';
	regfree(&re);
	return out;
}

static void free_keys(char **keys)
{
	for (; *keys; keys++)
		free(*keys);
}

static void test_reference_config_is_accepted_by_the_daemon(void **state)
{
	char *keys[MAX_KEYS + 1], err[512], *text;
	struct sg_config c;
	size_t len;

	assert_true(daemon_known_keys(keys, MAX_KEYS) >= 20);
	text = slurp(REFERENCE, &len);
	assert_non_null(text);
	assert_int_equal(sg_config_parse(text, len, REFERENCE, &c, err, sizeof(err)), 0);
	if (sg_config_check_keys(&c, (const char *const *)keys, REFERENCE, err, sizeof(err)))
		fail_msg("%s", err);
	/* What it sets is what the package installs and the unit may write. */
	assert_string_equal(sg_config_get(&c, "policy"), "/etc/sysguard/policy.yaml");
	assert_string_equal(sg_config_get(&c, "log"), "/var/log/sysguard/audit.log");
	assert_string_equal(sg_config_get(&c, "state_dir"), "/run/sysguard");
	assert_string_equal(sg_config_get(&c, "self_defence"), "on");
	sg_config_free(&c);
	free(text);
	free_keys(keys);
}

static void test_reference_config_documents_every_daemon_key(void **state)
{
	char *keys[MAX_KEYS + 1], err[512], *text, *on;
	struct sg_config c;
	size_t len, n, i;

	n = daemon_known_keys(keys, MAX_KEYS);
	assert_true(n >= 20);
	text = slurp(REFERENCE, &len);
	assert_non_null(text);
	on = all_settings_on(text);
	if (sg_config_parse(on, strlen(on), REFERENCE " (all settings on)", &c, err, sizeof(err)) ||
	    sg_config_check_keys(&c, (const char *const *)keys, REFERENCE " (all settings on)", err,
				 sizeof(err)))
		fail_msg("%s", err);
	for (i = 0; i < n; i++)
		if (!sg_config_get(&c, keys[i]))
			fail_msg("%s: the daemon's key %s is not documented", REFERENCE, keys[i]);
	assert_int_equal(c.n, n);
	sg_config_free(&c);
	free(on);
	free(text);
	free_keys(keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_config_is_accepted_by_the_daemon),
		cmocka_unit_test(test_reference_config_documents_every_daemon_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
