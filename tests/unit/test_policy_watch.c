// SPDX-License-Identifier: Apache-2.0
/* The policy file watch: plain edits, rename-into-place, ConfigMap "..data" swaps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Not in LIB_SRCS (it is daemon I/O); compiled in here, it needs nothing else. */
#include "act/policy_watch.c"

struct fixture {
	char dir[64];
	char policy[128];
	struct sg_policy_watch w;
};

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void at(char *buf, size_t len, const struct fixture *f, const char *name)
{
	snprintf(buf, len, "%s/%s", f->dir, name);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/sg-policy-watch-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	at(f->policy, sizeof(f->policy), f, "policy.yaml");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	sg_policy_watch_close(&f->w);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void test_edit_of_policy_file_is_seen(void **state)
{
	struct fixture *f = *state;

	write_file(f->policy, "a");
	assert_int_equal(sg_policy_watch_init(&f->w, f->policy), 0);
	assert_false(sg_policy_watch_changed(&f->w));
	write_file(f->policy, "b");
	assert_true(sg_policy_watch_changed(&f->w));
	assert_false(sg_policy_watch_changed(&f->w));
}

static void test_other_files_are_ignored(void **state)
{
	struct fixture *f = *state;
	char other[160];

	write_file(f->policy, "a");
	assert_int_equal(sg_policy_watch_init(&f->w, f->policy), 0);
	at(other, sizeof(other), f, "policy.yaml.swp");
	write_file(other, "x");
	assert_false(sg_policy_watch_changed(&f->w));
}

static void test_rename_into_place_is_seen(void **state)
{
	struct fixture *f = *state;
	char tmp[160];

	write_file(f->policy, "a");
	assert_int_equal(sg_policy_watch_init(&f->w, f->policy), 0);
	at(tmp, sizeof(tmp), f, ".policy.new");
	write_file(tmp, "b");
	assert_false(sg_policy_watch_changed(&f->w));
	assert_int_equal(rename(tmp, f->policy), 0);
	assert_true(sg_policy_watch_changed(&f->w));
}

/* What the kubelet does to a ConfigMap volume: new timestamped dir, "..data" swapped by rename. */
static void test_configmap_data_swap_is_seen(void **state)
{
	struct fixture *f = *state;
	char v1[160], v2[160], file[200], data[160], data_tmp[160];

	at(v1, sizeof(v1), f, "..2026_11_23_18_00_00.1");
	at(v2, sizeof(v2), f, "..2026_11_23_18_05_00.2");
	at(data, sizeof(data), f, "..data");
	at(data_tmp, sizeof(data_tmp), f, "..data_tmp");
	assert_int_equal(mkdir(v1, 0755), 0);
	snprintf(file, sizeof(file), "%s/policy.yaml", v1);
	write_file(file, "a");
	assert_int_equal(symlink("..2026_11_23_18_00_00.1", data), 0);
	assert_int_equal(symlink("..data/policy.yaml", f->policy), 0);
	assert_int_equal(sg_policy_watch_init(&f->w, f->policy), 0);

	assert_int_equal(mkdir(v2, 0755), 0);
	snprintf(file, sizeof(file), "%s/policy.yaml", v2);
	write_file(file, "b");
	assert_int_equal(symlink("..2026_11_23_18_05_00.2", data_tmp), 0);
	assert_false(sg_policy_watch_changed(&f->w));
	assert_int_equal(rename(data_tmp, data), 0);
	assert_true(sg_policy_watch_changed(&f->w));
}

/* policy.d beside the policy: fragments edited, added, removed; other names ignored. */
static void test_fragment_directory_changes_are_seen(void **state)
{
	struct fixture *f = *state;
	char dir[160], frag[200], other[200], tmp[200];

	write_file(f->policy, "a");
	at(dir, sizeof(dir), f, "policy.d");
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(sg_policy_watch_init(&f->w, f->policy), 0);
	assert_int_equal(sg_policy_watch_add_dir(&f->w, dir), 0);
	assert_false(sg_policy_watch_changed(&f->w));

	snprintf(frag, sizeof(frag), "%s/team-a.yaml", dir);
	write_file(frag, "name: team-a\n");
	assert_true(sg_policy_watch_changed(&f->w));
	snprintf(frag, sizeof(frag), "%s/team-b.yml", dir);
	write_file(frag, "name: team-b\n");
	assert_true(sg_policy_watch_changed(&f->w));
	/* Not fragments: another suffix, a hidden file, a file named like the policy. */
	snprintf(other, sizeof(other), "%s/README", dir);
	write_file(other, "x");
	snprintf(tmp, sizeof(tmp), "%s/.team-c.yaml.tmp", dir);
	write_file(tmp, "name: team-c\n");
	snprintf(other, sizeof(other), "%s/policy.yaml", dir);
	write_file(other, "x");
	assert_true(sg_policy_watch_changed(&f->w));	/* policy.yaml there is *.yaml: a fragment */
	assert_int_equal(unlink(other), 0);
	assert_true(sg_policy_watch_changed(&f->w));
	snprintf(other, sizeof(other), "%s/README", dir);
	write_file(other, "y");
	assert_false(sg_policy_watch_changed(&f->w));
	/* The hidden file renamed into place: seen once it has a fragment's name. */
	snprintf(other, sizeof(other), "%s/team-c.yaml", dir);
	assert_int_equal(rename(tmp, other), 0);
	assert_true(sg_policy_watch_changed(&f->w));
	assert_int_equal(unlink(other), 0);
	assert_true(sg_policy_watch_changed(&f->w));
	assert_false(sg_policy_watch_changed(&f->w));
}

/* A ConfigMap projected as policy.d: the kubelet swaps policy.d/..data. */
static void test_fragment_configmap_swap_is_seen(void **state)
{
	struct fixture *f = *state;
	char dir[160], path[260];

	write_file(f->policy, "a");
	at(dir, sizeof(dir), f, "policy.d");
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/..2026_12_02_05_00_00.1", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/..2026_12_02_05_00_00.1/team-a.yaml", dir);
	write_file(path, "name: team-a\n");
	snprintf(path, sizeof(path), "%s/..data", dir);
	assert_int_equal(symlink("..2026_12_02_05_00_00.1", path), 0);
	snprintf(path, sizeof(path), "%s/team-a.yaml", dir);
	assert_int_equal(symlink("..data/team-a.yaml", path), 0);
	assert_int_equal(sg_policy_watch_init(&f->w, f->policy), 0);
	assert_int_equal(sg_policy_watch_add_dir(&f->w, dir), 0);

	snprintf(path, sizeof(path), "%s/..2026_12_02_05_01_00.2", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/..2026_12_02_05_01_00.2/team-a.yaml", dir);
	write_file(path, "name: team-a\nrules: []\n");
	snprintf(path, sizeof(path), "%s/..data_tmp", dir);
	assert_int_equal(symlink("..2026_12_02_05_01_00.2", path), 0);
	assert_false(sg_policy_watch_changed(&f->w));
	{
		char data[200];

		snprintf(data, sizeof(data), "%s/..data", dir);
		assert_int_equal(rename(path, data), 0);
	}
	assert_true(sg_policy_watch_changed(&f->w));
}

/* A fragment directory made after the start is seen, then watched; removed, seen again. */
static void test_fragment_directory_made_later_is_watched(void **state)
{
	struct fixture *f = *state;
	char dir[160], frag[200];

	write_file(f->policy, "a");
	at(dir, sizeof(dir), f, "policy.d");
	assert_int_equal(sg_policy_watch_init(&f->w, f->policy), 0);
	assert_int_equal(sg_policy_watch_add_dir(&f->w, dir), 0);
	assert_int_equal(f->w.dir_wd, -1);
	write_file(f->policy, "b");
	assert_true(sg_policy_watch_changed(&f->w));	/* the policy file is still watched */

	assert_int_equal(mkdir(dir, 0755), 0);
	assert_true(sg_policy_watch_changed(&f->w));
	snprintf(frag, sizeof(frag), "%s/team-a.yaml", dir);
	write_file(frag, "name: team-a\n");
	assert_true(sg_policy_watch_changed(&f->w));
	assert_int_equal(unlink(frag), 0);
	assert_true(sg_policy_watch_changed(&f->w));
	assert_int_equal(rmdir(dir), 0);
	assert_true(sg_policy_watch_changed(&f->w));
	assert_int_equal(f->w.dir_wd, -1);
	/* Another directory beside it is nothing. */
	at(frag, sizeof(frag), f, "other.d");
	assert_int_equal(mkdir(frag, 0755), 0);
	assert_false(sg_policy_watch_changed(&f->w));
	/* Made again: watched again. */
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_true(sg_policy_watch_changed(&f->w));
	snprintf(frag, sizeof(frag), "%s/team-b.yml", dir);
	write_file(frag, "name: team-b\n");
	assert_true(sg_policy_watch_changed(&f->w));
}

/* Watching policy.d beside the policy adds DELETE and MOVED_FROM there: not a reason to reload. */
static void test_policy_file_moved_away_is_not_a_change(void **state)
{
	struct fixture *f = *state;
	char dir[160], old[200];

	write_file(f->policy, "a");
	at(dir, sizeof(dir), f, "policy.d");
	at(old, sizeof(old), f, "policy.yaml~");
	assert_int_equal(sg_policy_watch_init(&f->w, f->policy), 0);
	assert_int_equal(sg_policy_watch_add_dir(&f->w, dir), 0);
	assert_int_equal(rename(f->policy, old), 0);
	assert_false(sg_policy_watch_changed(&f->w));
	write_file(f->policy, "b");
	assert_true(sg_policy_watch_changed(&f->w));
	assert_int_equal(unlink(f->policy), 0);
	assert_false(sg_policy_watch_changed(&f->w));
}

static void test_fragment_directory_without_parent_is_an_error(void **state)
{
	struct fixture *f = *state;

	write_file(f->policy, "a");
	assert_int_equal(sg_policy_watch_init(&f->w, f->policy), 0);
	assert_int_equal(sg_policy_watch_add_dir(&f->w, "/nonexistent-sg-dir/policy.d"), -ENOENT);
}

static void test_missing_directory_is_an_error(void **state)
{
	struct sg_policy_watch w;

	assert_int_equal(sg_policy_watch_init(&w, "/nonexistent-sg-dir/policy.yaml"), -ENOENT);
	assert_int_equal(sg_policy_watch_fd(&w), -1);
	assert_false(sg_policy_watch_changed(&w));
	sg_policy_watch_close(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_edit_of_policy_file_is_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_files_are_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_into_place_is_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configmap_data_swap_is_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragment_directory_changes_are_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragment_configmap_swap_is_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragment_directory_made_later_is_watched, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_policy_file_moved_away_is_not_a_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fragment_directory_without_parent_is_an_error,
						setup, teardown),
		cmocka_unit_test(test_missing_directory_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
