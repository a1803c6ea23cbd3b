// SPDX-License-Identifier: Apache-2.0
/* Container identity from cgroup paths and /proc/PID/cgroup content. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sense/container.h"

#define ID "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "6b9f2a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
#define UID_U "6b9f2a1e_3c4d_4e5f_8a9b_0c1d2e3f4a5b"

static int parse(const char *path, struct sg_container *c)
{
	return sg_container_from_path(path, strlen(path), c);
}

static void expect(const char *path, const char *id, enum sg_runtime rt, const char *pod)
{
	struct sg_container c;

	assert_int_equal(parse(path, &c), 0);
	assert_string_equal(c.id, id);
	assert_int_equal(c.runtime, rt);
	assert_string_equal(c.pod_uid, pod);
}

static void expect_none(const char *path, int err)
{
	struct sg_container c;

	memset(&c, 'x', sizeof(c));
	assert_int_equal(parse(path, &c), err);
	assert_string_equal(c.id, "");
	assert_string_equal(c.pod_uid, "");
	assert_int_equal(c.runtime, SG_RUNTIME_NONE);
}

static void test_docker_cgroupfs(void **state)
{
	expect("/docker/" ID, ID, SG_RUNTIME_DOCKER, "");
}

static void test_docker_systemd_scope(void **state)
{
	expect("/system.slice/docker-" ID ".scope", ID, SG_RUNTIME_DOCKER, "");
}

static void test_sub_cgroup_of_container_keeps_container(void **state)
{
	expect("/system.slice/docker-" ID ".scope/init.scope", ID, SG_RUNTIME_DOCKER, "");
}

static void test_kubelet_cgroupfs_qos_classes(void **state)
{
	expect("/kubepods/burstable/pod" UID "/" ID, ID, SG_RUNTIME_NONE, UID);
	expect("/kubepods/besteffort/pod" UID "/" ID, ID, SG_RUNTIME_NONE, UID);
	expect("/kubepods/pod" UID "/" ID, ID, SG_RUNTIME_NONE, UID);
}

static void test_kubelet_systemd_containerd(void **state)
{
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_U
	       ".slice/cri-containerd-" ID ".scope", ID, SG_RUNTIME_CONTAINERD, UID);
}

static void test_kubelet_systemd_guaranteed(void **state)
{
	expect("/kubepods.slice/kubepods-pod" UID_U ".slice/cri-containerd-" ID ".scope",
	       ID, SG_RUNTIME_CONTAINERD, UID);
}

static void test_kubelet_systemd_crio(void **state)
{
	expect("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_U
	       ".slice/crio-" ID ".scope", ID, SG_RUNTIME_CRIO, UID);
}

static void test_kubelet_systemd_docker(void **state)
{
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_U
	       ".slice/docker-" ID ".scope", ID, SG_RUNTIME_DOCKER, UID);
}

static void test_crio_conmon_is_not_the_container(void **state)
{
	expect_none("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_U
		    ".slice/crio-conmon-" ID ".scope", -ENOENT);
	expect_none("/machine.slice/libpod-conmon-" ID ".scope", -ENOENT);
}

static void test_podman(void **state)
{
	expect("/machine.slice/libpod-" ID ".scope", ID, SG_RUNTIME_PODMAN, "");
	expect("/libpod_parent/libpod-" ID, ID, SG_RUNTIME_PODMAN, "");
	expect("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope",
	       ID, SG_RUNTIME_PODMAN, "");
}

static void test_containerd_service_is_host(void **state)
{
	expect_none("/system.slice/containerd.service", -ENOENT);
}

static void test_containerd_service_runc_colon_form(void **state)
{
	expect("/system.slice/containerd.service/kubepods-burstable-pod" UID_U
	       ".slice:cri-containerd:" ID, ID, SG_RUNTIME_CONTAINERD, UID);
}

static void test_containerd_namespace_cgroupfs(void **state)
{
	expect("/default/" ID, ID, SG_RUNTIME_NONE, "");
}

static void test_kind_node_innermost_container_wins(void **state)
{
	expect("/system.slice/docker-" ID2 ".scope/kubelet.slice/kubelet-kubepods.slice/"
	       "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UID_U
	       ".slice/cri-containerd-" ID ".scope", ID, SG_RUNTIME_CONTAINERD, UID);
	expect("/docker/" ID2 "/kubepods/besteffort/pod" UID "/" ID, ID, SG_RUNTIME_NONE, UID);
}

static void test_kind_node_itself_is_a_container(void **state)
{
	expect("/docker/" ID2 "/system.slice/containerd.service", ID2, SG_RUNTIME_DOCKER, "");
}

static void test_pod_does_not_label_nested_container(void **state)
{
	expect("/kubepods/pod" UID "/" ID2 "/docker/" ID, ID, SG_RUNTIME_DOCKER, "");
}

static void test_host_cgroups_have_no_container(void **state)
{
	expect_none("/", -ENOENT);
	expect_none("/init.scope", -ENOENT);
	expect_none("/user.slice/user-0.slice/session-3.scope", -ENOENT);
	expect_none("/system.slice/docker.service", -ENOENT);
	expect_none("/kubepods.slice/kubepods-besteffort.slice", -ENOENT);
	expect_none("/kubepods/besteffort/pod" UID, -ENOENT);
}

static void test_pod_segment_outside_kubepods_is_ignored(void **state)
{
	expect("/pod" UID "/" ID, ID, SG_RUNTIME_NONE, "");
}

static void test_malformed_ids_are_refused(void **state)
{
	/* 63 hex, 65 hex, uppercase, not hex, trailing junk */
	expect_none("/docker/" "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa0011223344556677889", -ENOENT);
	expect_none("/docker/" ID "0", -ENOENT);
	expect_none("/docker/3F4E5D6C7B8A99887766554433221100FFEEDDCCBBAA00112233445566778899", -ENOENT);
	expect_none("/docker/3g4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899", -ENOENT);
	expect_none("/system.slice/docker-" ID ".scope.bak", -ENOENT);
	expect_none("/system.slice/docker-" ID "x.scope", -ENOENT);
	expect_none("/x:cri-containerd:" ID "z", -ENOENT);
	expect_none("/x:unknown:" ID, -ENOENT);
}

static void test_malformed_pod_uid_is_not_reported(void **state)
{
	expect("/kubepods/pod6B9F2A1E-3C4D-4E5F-8A9B-0C1D2E3F4A5B/" ID, ID, SG_RUNTIME_NONE, "");
	expect("/kubepods/pod" UID "x/" ID, ID, SG_RUNTIME_NONE, "");
	expect("/kubepods.slice/kubepods-pod" UID ".slice/cri-containerd-" ID ".scope",
	       ID, SG_RUNTIME_CONTAINERD, "");
}

static void test_hostile_input_is_refused(void **state)
{
	static const char with_nul[] = "/docker/\0" ID;
	struct sg_container c;
	char *longp = malloc(SG_CGROUP_PATH_MAX + 2);

	assert_int_equal(sg_container_from_path(with_nul, sizeof(with_nul) - 1, &c), -EINVAL);
	expect_none("/docker/" ID "\n0::/", -EINVAL);
	expect_none("docker/" ID, -EINVAL);
	assert_int_equal(sg_container_from_path("", 0, &c), -EINVAL);
	assert_int_equal(sg_container_from_path(NULL, 3, &c), -EINVAL);
	memset(longp, 'a', SG_CGROUP_PATH_MAX + 1);
	longp[0] = '/';
	memcpy(longp + SG_CGROUP_PATH_MAX + 1 - 64, ID, 64);
	longp[SG_CGROUP_PATH_MAX - 64] = '/';
	assert_int_equal(sg_container_from_path(longp, SG_CGROUP_PATH_MAX + 1, &c), -EINVAL);
	/* at the limit it still parses */
	assert_int_equal(sg_container_from_path(longp + 1, SG_CGROUP_PATH_MAX, &c), -EINVAL);
	longp[1] = '/';
	assert_int_equal(sg_container_from_path(longp + 1, SG_CGROUP_PATH_MAX, &c), 0);
	assert_string_equal(c.id, ID);
	free(longp);
}

static int from_proc(const char *content, struct sg_container *c, int *v2)
{
	return sg_container_from_proc(content, strlen(content), c, v2);
}

static void test_proc_v2_line(void **state)
{
	struct sg_container c;
	int v2;

	assert_int_equal(from_proc("0::/system.slice/docker-" ID ".scope\n", &c, &v2), 0);
	assert_string_equal(c.id, ID);
	assert_int_equal(v2, 1);
	assert_int_equal(from_proc("0::/user.slice/user-0.slice/session-1.scope\n", &c, &v2), -ENOENT);
	assert_int_equal(v2, 0);
}

static void test_proc_v1_picks_the_container_line(void **state)
{
	static const char hybrid[] =
		"12:pids:/docker/" ID "\n"
		"11:memory:/docker/" ID "\n"
		"3:cpu,cpuacct:/docker/" ID "\n"
		"1:name=systemd:/docker/" ID "\n"
		"0::/system.slice/docker.service\n";
	static const char v1_systemd_first[] =
		"5:devices:/docker/" ID2 "\n"
		"1:name=systemd:/kubepods/besteffort/pod" UID "/" ID "\n";
	struct sg_container c;
	int v2 = 1;

	assert_int_equal(from_proc(hybrid, &c, &v2), 0);
	assert_string_equal(c.id, ID);
	assert_int_equal(c.runtime, SG_RUNTIME_DOCKER);
	assert_int_equal(v2, 0);
	assert_int_equal(from_proc(v1_systemd_first, &c, NULL), 0);
	assert_string_equal(c.id, ID);
	assert_string_equal(c.pod_uid, UID);
}

static void test_proc_host_v1(void **state)
{
	struct sg_container c;

	assert_int_equal(from_proc("4:memory:/user.slice\n1:name=systemd:/init.scope\n0::/init.scope\n",
				   &c, NULL), -ENOENT);
}

static void test_proc_newline_in_cgroup_name_is_refused(void **state)
{
	struct sg_container c;

	/* a cgroup named "x\n0::/docker/<id>" forges a second v2 line */
	assert_int_equal(from_proc("0::/user.slice/x\n0::/docker/" ID "\n", &c, NULL), -EINVAL);
	assert_string_equal(c.id, "");
	assert_int_equal(from_proc("garbage\n", &c, NULL), -EINVAL);
	assert_int_equal(from_proc("a:b:/docker/" ID "\n", &c, NULL), -EINVAL);
	assert_int_equal(from_proc("99:memory:/docker/" ID "\n", &c, NULL), -EINVAL);
	assert_int_equal(sg_container_from_proc("0::/docker/" ID "\0\n", 76, &c, NULL), -EINVAL);
	assert_int_equal(from_proc("", &c, NULL), -ENOENT);
}

static void test_runtime_names(void **state)
{
	assert_null(sg_runtime_name(SG_RUNTIME_NONE));
	assert_string_equal(sg_runtime_name(SG_RUNTIME_DOCKER), "docker");
	assert_string_equal(sg_runtime_name(SG_RUNTIME_CONTAINERD), "containerd");
	assert_string_equal(sg_runtime_name(SG_RUNTIME_CRIO), "cri-o");
	assert_string_equal(sg_runtime_name(SG_RUNTIME_PODMAN), "podman");
	assert_null(sg_runtime_name((enum sg_runtime)99));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker_cgroupfs),
		cmocka_unit_test(test_docker_systemd_scope),
		cmocka_unit_test(test_sub_cgroup_of_container_keeps_container),
		cmocka_unit_test(test_kubelet_cgroupfs_qos_classes),
		cmocka_unit_test(test_kubelet_systemd_containerd),
		cmocka_unit_test(test_kubelet_systemd_guaranteed),
		cmocka_unit_test(test_kubelet_systemd_crio),
		cmocka_unit_test(test_kubelet_systemd_docker),
		cmocka_unit_test(test_crio_conmon_is_not_the_container),
		cmocka_unit_test(test_podman),
		cmocka_unit_test(test_containerd_service_is_host),
		cmocka_unit_test(test_containerd_service_runc_colon_form),
		cmocka_unit_test(test_containerd_namespace_cgroupfs),
		cmocka_unit_test(test_kind_node_innermost_container_wins),
		cmocka_unit_test(test_kind_node_itself_is_a_container),
		cmocka_unit_test(test_pod_does_not_label_nested_container),
		cmocka_unit_test(test_host_cgroups_have_no_container),
		cmocka_unit_test(test_pod_segment_outside_kubepods_is_ignored),
		cmocka_unit_test(test_malformed_ids_are_refused),
		cmocka_unit_test(test_malformed_pod_uid_is_not_reported),
		cmocka_unit_test(test_hostile_input_is_refused),
		cmocka_unit_test(test_proc_v2_line),
		cmocka_unit_test(test_proc_v1_picks_the_container_line),
		cmocka_unit_test(test_proc_host_v1),
		cmocka_unit_test(test_proc_newline_in_cgroup_name_is_refused),
		cmocka_unit_test(test_runtime_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
