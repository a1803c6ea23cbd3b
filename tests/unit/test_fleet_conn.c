// SPDX-License-Identifier: Apache-2.0
/*
 * The fleet connection's settings (src/report/fleet_conn.c): the URLs, one
 * way to log in, a password from a file only, a key with a certificate, and
 * files that are not what they should be refused before anything connects.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/fleet_conn.h"

static char dir[64];

static const char *file(const char *name, const char *text)
{
	static char paths[8][128];
	static int next;
	char *p = paths[next++ % 8];
	FILE *f;

	snprintf(p, 128, "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static int check(const struct sg_fleet_conn_config *c, char *err, size_t len)
{
	err[0] = '\0';
	return sg_fleet_conn_check(c, err, len);
}

static void test_tls_urls_are_accepted(void **state)
{
	char err[256];

	assert_int_equal(sg_fleet_bus_check_url("tls://nats-1.example.com:4222", err, sizeof(err)), 0);
	assert_int_equal(sg_fleet_bus_check_url("tls://a:1,nats://b:2", err, sizeof(err)), 0);
	assert_int_equal(sg_fleet_bus_check_url("tls://:4222", err, sizeof(err)), -EINVAL);
	assert_int_equal(sg_fleet_bus_check_url("https://a:1", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tls://host:port"));
}

static void test_password_comes_from_a_file_with_a_user(void **state)
{
	struct sg_fleet_conn_config c = { .url = "tls://a:1", .user = "web-1" };
	char err[256];

	assert_int_equal(check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "needs a password file"));
	c.password_file = file("pw", "secret\n");
	assert_int_equal(check(&c, err, sizeof(err)), 0);
	c.user = NULL;
	assert_int_equal(check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "needs a user"));
	c.user = "web-1";
	c.password_file = file("empty", "\n");
	assert_int_equal(check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no password"));
	c.password_file = "/nonexistent/pw";
	assert_int_equal(check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/nonexistent/pw"));
}

static void test_one_way_to_log_in(void **state)
{
	struct sg_fleet_conn_config c = {
		.url = "tls://a:1", .user = "u", .password_file = file("pw2", "x\n"),
		.creds = file("c.creds", "-----BEGIN NATS USER JWT-----\neyJ\n"),
	};
	char err[256];

	assert_int_equal(check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "one way"));
	c.user = c.password_file = NULL;
	assert_int_equal(check(&c, err, sizeof(err)), 0);
}

static void test_files_that_are_not_what_they_should_be(void **state)
{
	struct sg_fleet_conn_config c = { .url = "tls://a:1" };
	char err[256];

	c.creds = file("not.creds", "hello\n");
	assert_int_equal(check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a NATS .creds file"));
	c.creds = NULL;
	c.nkey_seed = file("seed", "SUAEXAMPLE\n");
	assert_int_equal(check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "public key"));
	c.nkey_seed = file("seed2", "SUAEXAMPLE\nUAEXAMPLE\n");
	assert_int_equal(check(&c, err, sizeof(err)), 0);
	c.nkey_seed = NULL;
	c.tls_cert = file("cert.pem", "x");
	assert_int_equal(check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "needs its key"));
	c.tls_key = "/nonexistent/key";
	assert_int_equal(check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/nonexistent/key"));
}

#ifndef SG_FLEET_NO_NATS
static void test_a_ca_file_that_is_not_pem_fails_before_connecting(void **state)
{
	struct sg_fleet_conn_config c = { .url = "tls://127.0.0.1:1", .tls_ca = file("ca", "nope\n") };
	natsOptions *o;
	char err[512];

	assert_int_equal(check(&c, err, sizeof(err)), 0);
	o = sg_fleet_conn_options(&c, err, sizeof(err));
	assert_null(o);
	assert_non_null(strstr(err, c.tls_ca));
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_urls_are_accepted),
		cmocka_unit_test(test_password_comes_from_a_file_with_a_user),
		cmocka_unit_test(test_one_way_to_log_in),
		cmocka_unit_test(test_files_that_are_not_what_they_should_be),
#ifndef SG_FLEET_NO_NATS
		cmocka_unit_test(test_a_ca_file_that_is_not_pem_fails_before_connecting),
#endif
	};
	char cmd[96];
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/test_fleet_conn.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		rc = rc ? rc : 1;
	return rc;
}
