// SPDX-License-Identifier: Apache-2.0
/* The host's names for paths another mount namespace shows (EXEC-9). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "sense/host_mounts.h"

static const char table[] =
	"22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
	"27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
	"40 27 254:0 /srv/data /mnt/with\\040space rw - ext4 /dev/vda rw\n"
	"41 27 0:50 /sub /opt/part rw - tmpfs tmpfs rw\n"
	"garbage line\n";

static void test_mountinfo_parses_ids_devices_and_escaped_names(void **state)
{
	struct sg_host_mounts m = { .fd = -1 };

	assert_int_equal(sg_host_mounts_parse(&m, table, sizeof(table) - 1), 0);
	assert_int_equal(m.n, 4);
	assert_true(sg_host_mounts_has_id(&m, 27));
	assert_false(sg_host_mounts_has_id(&m, 99));
	assert_string_equal(m.v[2].point, "/mnt/with space");
	assert_string_equal(m.v[2].root, "/srv/data");
	assert_true(m.v[1].dev == makedev(254, 0));
	sg_host_mounts_free(&m);
}

static void test_filesystem_path_maps_to_the_host_name(void **state)
{
	struct sg_host_mounts m = { .fd = -1 };
	char out[256];

	assert_int_equal(sg_host_mounts_parse(&m, table, sizeof(table) - 1), 0);
	/* The whole filesystem is mounted at /: its own path is the host's. */
	assert_int_equal(sg_host_path_of(&m, makedev(254, 0), "/home/u/dir/evil", out, sizeof(out)), 0);
	assert_string_equal(out, "/home/u/dir/evil");
	/* Only a part of it is mounted: below that part only. */
	assert_int_equal(sg_host_path_of(&m, makedev(0, 50), "/sub/x/tool", out, sizeof(out)), 0);
	assert_string_equal(out, "/opt/part/x/tool");
	assert_int_equal(sg_host_path_of(&m, makedev(0, 50), "/subway/tool", out, sizeof(out)), -ENOENT);
	assert_int_equal(sg_host_path_of(&m, makedev(0, 50), "/other/tool", out, sizeof(out)), -ENOENT);
	/* A filesystem the host never mounted (a namespace's own tmpfs) has no host name. */
	assert_int_equal(sg_host_path_of(&m, makedev(0, 77), "/tool", out, sizeof(out)), -ENOENT);
	assert_int_equal(sg_host_path_of(&m, makedev(254, 0), "/a/b", out, 4), -ENAMETOOLONG);
	sg_host_mounts_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mountinfo_parses_ids_devices_and_escaped_names),
		cmocka_unit_test(test_filesystem_path_maps_to_the_host_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
