// SPDX-License-Identifier: Apache-2.0
/*
 * FILE-3: which mount a path shows, and detaching only what was mounted
 * over it since. Needs root: each case runs in a child, in a mount
 * namespace of its own, on a tmpfs of its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Not in LIB_SRCS (it is daemon I/O); compiled in here, it needs nothing else. */
#include "act/self_mount.c"

struct seen {
	unsigned calls;
	char mountpoint[256];
	int err;
};

static void on_unmount(void *ctx, const char *mountpoint, uint64_t mnt_id, int err)
{
	struct seen *s = ctx;

	s->calls++;
	snprintf(s->mountpoint, sizeof(s->mountpoint), "%s", mountpoint);
	s->err = err;
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		_exit(90);
	close(fd);
}

static int bind(const char *src, const char *dst)
{
	return mount(src, dst, NULL, MS_BIND, NULL);
}

/* Each case: 0 when it holds, the number of the failed check otherwise. */
typedef int (*mount_case)(const char *base);

static int case_unchanged(const char *base)
{
	struct sg_mount_view v;
	struct seen s = { 0 };
	char file[200];

	snprintf(file, sizeof(file), "%s/policy.yaml", base);
	put(file, "good");
	if (sg_mount_view_record(&v, file) || !v.known)
		return 1;
	if (!sg_mount_view_same(&v, file))
		return 2;
	if (sg_mount_view_restore(&v, file, on_unmount, &s) || s.calls)
		return 3;
	return 0;
}

static int case_bind_over_file_is_detached(const char *base)
{
	struct sg_mount_view v;
	struct seen s = { 0 };
	char file[200], evil[200];

	snprintf(file, sizeof(file), "%s/policy.yaml", base);
	snprintf(evil, sizeof(evil), "%s/evil.yaml", base);
	put(file, "good");
	put(evil, "evil");
	if (sg_mount_view_record(&v, file))
		return 1;
	if (bind(evil, file) || bind(evil, file))	/* two, stacked */
		return 2;
	if (sg_mount_view_same(&v, file))
		return 3;
	if (sg_mount_view_restore(&v, file, on_unmount, &s))
		return 4;
	if (s.calls != 2 || s.err || strcmp(s.mountpoint, file))
		return 5;
	return sg_mount_view_same(&v, file) ? 0 : 6;
}

static int case_mount_over_directory_is_detached(const char *base)
{
	struct sg_mount_view v;
	struct seen s = { 0 };
	char dir[200], file[220];

	snprintf(dir, sizeof(dir), "%s/etc", base);
	snprintf(file, sizeof(file), "%s/policy.yaml", dir);
	if (mkdir(dir, 0755))
		return 1;
	put(file, "good");
	if (sg_mount_view_record(&v, file))
		return 2;
	/* An empty directory over it: the file is not even there. */
	if (mount("evil", dir, "tmpfs", 0, NULL))
		return 3;
	if (sg_mount_view_same(&v, file))
		return 4;
	if (sg_mount_view_restore(&v, file, on_unmount, &s) || s.calls != 1 ||
	    strcmp(s.mountpoint, dir))
		return 5;
	return access(file, F_OK) == 0 ? 0 : 6;
}

static int case_own_mount_gone_detaches_nothing(const char *base)
{
	struct sg_mount_view v;
	struct seen s = { 0 };
	char file[200], src[200];
	uint64_t before = 0, after = 0;

	snprintf(file, sizeof(file), "%s/policy.yaml", base);
	snprintf(src, sizeof(src), "%s/source.yaml", base);
	put(file, "under");
	put(src, "good");
	/* The file the daemon started with is itself a bind mount (a container volume). */
	if (bind(src, file) || sg_mount_view_record(&v, file) || sg_mount_id(base, &before))
		return 1;
	if (umount2(file, MNT_DETACH))
		return 2;
	if (sg_mount_view_restore(&v, file, on_unmount, &s) != -EPERM)
		return 3;
	if (s.calls != 1 || s.err != -EPERM)
		return 4;
	/* The directory's own mount, there from the start, is still there. */
	if (sg_mount_id(base, &after) || after != before)
		return 5;
	return 0;
}

static void run_case(mount_case c)
{
	char base[] = "/tmp/sg-self-mount.XXXXXX";
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_non_null(mkdtemp(base));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			_exit(100);
		if (mount("sg-test", base, "tmpfs", 0, NULL))
			_exit(101);
		_exit(c(base));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	rmdir(base);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 100) {
		skip();		/* no mount namespaces here */
		return;
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_unchanged_path_shows_its_mount(void **state)
{
	run_case(case_unchanged);
}

static void test_bind_mounts_over_file_are_detached(void **state)
{
	run_case(case_bind_over_file_is_detached);
}

static void test_mount_over_parent_directory_is_detached(void **state)
{
	run_case(case_mount_over_directory_is_detached);
}

static void test_mount_there_at_start_is_never_detached(void **state)
{
	run_case(case_own_mount_gone_detaches_nothing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unchanged_path_shows_its_mount),
		cmocka_unit_test(test_bind_mounts_over_file_are_detached),
		cmocka_unit_test(test_mount_over_parent_directory_is_detached),
		cmocka_unit_test(test_mount_there_at_start_is_never_detached),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
