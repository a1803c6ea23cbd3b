// SPDX-License-Identifier: Apache-2.0
#include "report/container_record.h"

#include <stdlib.h>
#include <string.h>

static sg_workload_lookup_fn lookup_fn;
static void *lookup_ctx;

void sg_record_set_workload_lookup(sg_workload_lookup_fn fn, void *ctx)
{
	lookup_fn = fn;
	lookup_ctx = ctx;
}

static void kv_nonempty(struct sg_json *j, const char *k, const char *v)
{
	if (v && v[0])
		sg_json_kv_str(j, k, v);
}

void sg_record_container(struct sg_json *j, const struct sg_container *c,
			 const struct sg_workload_info *w)
{
	const char *p, *end;

	if (!(w && w->id[0]) && !(c && c->id[0]))
		return;
	sg_json_key(j, "container");
	sg_json_begin_object(j);
	if (!(w && w->id[0])) {
		sg_json_kv_str(j, "id", c->id);
		kv_nonempty(j, "runtime", sg_runtime_name(c->runtime));
		kv_nonempty(j, "pod_uid", c->pod_uid);
		/* Named by a cgroup path only: no runtime's state vouches for it. */
		sg_json_kv_bool(j, "verified", false);
		sg_json_end_object(j);
		return;
	}
	sg_json_kv_str(j, "id", w->id);
	kv_nonempty(j, "runtime", sg_runtime_name(w->runtime));
	kv_nonempty(j, "name", w->name);
	kv_nonempty(j, "image", w->image);
	kv_nonempty(j, "image_digest", w->image_digest);
	kv_nonempty(j, "pod_namespace", w->pod_namespace);
	kv_nonempty(j, "pod_name", w->pod_name);
	kv_nonempty(j, "pod_uid", w->pod_uid[0] ? w->pod_uid : (c ? c->pod_uid : NULL));
	kv_nonempty(j, "k8s_container", w->k8s_container);
	sg_json_kv_bool(j, "verified", true);
	if (w->nlabels) {
		sg_json_key(j, "labels");
		sg_json_begin_object(j);
		for (p = w->labels, end = w->labels + w->labels_len; p < end;) {
			const char *v = p + strlen(p) + 1;

			sg_json_kv_str(j, p, v);
			p = v + strlen(v) + 1;
		}
		sg_json_end_object(j);
	}
	sg_json_end_object(j);
}

void sg_record_container_of(struct sg_json *j, pid_t pid, uint64_t cgroup_id,
			    const struct sg_container *c)
{
	/* Some 20 KiB: not on the stack of every thread that writes a record. */
	struct sg_workload_info *w = lookup_fn && pid > 0 ? malloc(sizeof(*w)) : NULL;

	if (w && !lookup_fn(lookup_ctx, pid, cgroup_id, NULL, w))
		w->id[0] = '\0';
	sg_record_container(j, c, w);
	free(w);
}

void sg_record_container_of_cgroups(struct sg_json *j, pid_t pid, const char *proc_cgroup)
{
	struct sg_workload_info *w = lookup_fn && pid > 0 ? malloc(sizeof(*w)) : NULL;

	if (w && !lookup_fn(lookup_ctx, pid, 0, proc_cgroup && *proc_cgroup ? proc_cgroup : NULL, w))
		w->id[0] = '\0';
	sg_record_container(j, NULL, w);
	free(w);
}
