// SPDX-License-Identifier: Apache-2.0
/* Container identity from runtime state files: runc state.json, OCI bundle, podman storage. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sense/workload.h"

#define ID "4c6f545e1510e2c2a74abd8277fa1fdab2e3b57d25388232ac43e481e5d2256c"

static char dir[] = "/tmp/sg-unit-workload-XXXXXX";

static void put(const char *rel, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void mk(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
	char state_json[4096], bundle[512];

	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	mk("runc");
	mk("runc/" ID);
	mk("storage");
	mk("storage/overlay-containers");
	mk("storage/overlay-containers/" ID);
	mk("storage/overlay-containers/" ID "/userdata");
	mk("storage/overlay-images");
	snprintf(bundle, sizeof(bundle), "%s/storage/overlay-containers/%s/userdata", dir, ID);
	snprintf(state_json, sizeof(state_json),
		 "{\"id\":\"%s\",\"init_process_pid\":4242,\"config\":{\"rootfs\":\"/var/lib/x/merged\","
		 "\"labels\":[\"io.container.manager=libpod\",\"bundle=%s\"]},"
		 "\"cgroup_paths\":{\"\":\"/sys/fs/cgroup/unified/libpod_parent/libpod-%s\","
		 "\"pids\":\"/sys/fs/cgroup/pids/libpod_parent/libpod-%s\"}}",
		 ID, bundle, ID, ID);
	put("runc/" ID "/state.json", state_json, 0600);
	put("storage/overlay-containers/" ID "/userdata/config.json",
	    "{\"annotations\":{\"io.container.manager\":\"libpod\",\"team\":\"red\","
	    "\"io.kubernetes.cri.sandbox-namespace\":\"shop\",\"io.kubernetes.cri.sandbox-name\":\"web-1\","
	    "\"io.kubernetes.cri.container-name\":\"nginx\",\"evil\":\"a\\u0000b\"}}", 0600);
	put("storage/overlay-containers/containers.json",
	    "[{\"id\":\"other\",\"names\":[\"x\"]},{\"id\":\"" ID "\",\"names\":[\"web\"],\"image\":\"img1\","
	    "\"metadata\":\"{\\\"image-name\\\":\\\"localhost/web:1\\\"}\"}]", 0600);
	put("storage/overlay-images/images.json",
	    "[{\"id\":\"img1\",\"digest\":\"sha256:abc\",\"names\":[\"localhost/web:1\"]}]", 0600);
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *state_path(void)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/runc/%s/state.json", dir, ID);
	return p;
}

static void test_podman_state_gives_name_image_pod_and_labels(void **st)
{
	struct sg_workload w;
	char *k[SG_WL_LABELS_MAX], *v[SG_WL_LABELS_MAX];
	struct sg_workload_attrs a;
	size_t i;
	bool team = false, evil = false;

	if (geteuid() != 0)
		fail_msg("needs root: only root-owned state counts");
	assert_int_equal(sg_workload_read_state(state_path(), &w), 0);
	assert_string_equal(w.info.id, ID);
	assert_int_equal(w.info.runtime, SG_RUNTIME_PODMAN);
	assert_string_equal(w.info.name, "web");
	assert_string_equal(w.info.image, "localhost/web:1");
	assert_string_equal(w.info.image_digest, "sha256:abc");
	assert_string_equal(w.info.pod_namespace, "shop");
	assert_string_equal(w.info.pod_name, "web-1");
	assert_string_equal(w.info.k8s_container, "nginx");
	assert_string_equal(w.info.rootfs, "/var/lib/x/merged");
	assert_int_equal(w.info.init_pid, 4242);
	assert_true(w.cgroup_v2);
	sg_workload_attrs(&w.info, &a, k, v);
	for (i = 0; i < a.nlabels; i++) {
		team |= !strcmp(k[i], "team") && !strcmp(v[i], "red");
		evil |= !strcmp(k[i], "evil");
	}
	assert_true(team);
	/* A NUL inside a value would let "a" pass for "a\0b": such a label is dropped. */
	assert_false(evil);
}

static void test_state_anyone_may_write_is_not_trusted(void **st)
{
	struct sg_workload w;

	if (geteuid() != 0)
		fail_msg("needs root");
	assert_int_equal(chmod(state_path(), 0666), 0);
	assert_int_equal(sg_workload_read_state(state_path(), &w), -EPERM);
	assert_int_equal(chmod(state_path(), 0600), 0);
	assert_int_equal(chown(state_path(), 65534, 65534), 0);
	assert_int_equal(sg_workload_read_state(state_path(), &w), -EPERM);
	assert_int_equal(chown(state_path(), 0, 0), 0);
	assert_int_equal(sg_workload_read_state(state_path(), &w), 0);
}

static bool in(const struct sg_workload *w, const char *cgroup)
{
	return sg_workload_has_cgroup(w, cgroup, strlen(cgroup), "/sys/fs/cgroup/unified");
}

static void test_process_must_be_in_the_runtimes_cgroup(void **st)
{
	struct sg_workload w = { .cgroup_v2 = true };

	snprintf(w.cgroup, sizeof(w.cgroup), "/sys/fs/cgroup/unified/libpod_parent/libpod-%s", ID);
	assert_true(in(&w, "0::/libpod_parent/libpod-" ID "\n"));
	assert_true(in(&w, "12:pids:/x\n0::/libpod_parent/libpod-" ID "/sub\n"));
	/* A name that merely starts like it, a parent, a v1 line: not in it. */
	assert_false(in(&w, "0::/libpod_parent/libpod-" ID "x\n"));
	assert_false(in(&w, "0::/libpod_parent\n"));
	assert_false(in(&w, "1:name=systemd:/libpod_parent/libpod-" ID "\n0::/user.slice\n"));
	/* A v1-only runtime: its path ends with the process's. */
	w.cgroup_v2 = false;
	snprintf(w.cgroup, sizeof(w.cgroup), "/sys/fs/cgroup/pids/sgtest/ctr1");
	assert_true(in(&w, "5:pids:/sgtest/ctr1\n"));
	assert_true(in(&w, "5:pids:/sgtest/ctr1/inner\n"));
	assert_false(in(&w, "5:pids:/sgtest/ctr10\n"));
	assert_false(in(&w, "5:cpu:/sgtest/ctr1\n"));
}

static void test_container_path_from_root_or_layer(void **st)
{
	struct sg_workload_info w = { 0 };
	char out[256];
	static const char layers[] = "/var/lib/c/overlay/aa/diff\0/var/lib/c/overlay/bb/diff";

	snprintf(w.rootfs, sizeof(w.rootfs), "/var/lib/c/overlay/aa/merged");
	memcpy(w.layers, layers, sizeof(layers));
	w.layers_len = sizeof(layers);
	assert_int_equal(sg_workload_container_path(&w, "/var/lib/c/overlay/aa/merged/usr/bin/nc",
						    out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/bin/nc");
	assert_int_equal(sg_workload_container_path(&w, "/var/lib/c/overlay/bb/diff/bin/busybox",
						    out, sizeof(out)), 0);
	assert_string_equal(out, "/bin/busybox");
	assert_int_equal(sg_workload_container_path(&w, "/var/lib/c/overlay/aa/mergedx/bin/sh",
						    out, sizeof(out)), -ENOENT);
	assert_int_equal(sg_workload_container_path(&w, "/srv/volume/x", out, sizeof(out)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_podman_state_gives_name_image_pod_and_labels),
		cmocka_unit_test(test_state_anyone_may_write_is_not_trusted),
		cmocka_unit_test(test_process_must_be_in_the_runtimes_cgroup),
		cmocka_unit_test(test_container_path_from_root_or_layer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
