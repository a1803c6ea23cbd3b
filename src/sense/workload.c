// SPDX-License-Identifier: Apache-2.0
/*
 * One container's identity from its runtime's state: runc's state.json
 * (id, init pid, root, cgroup, bundle), the bundle's config.json (OCI
 * annotations: CRI's pod fields, labels), and for podman its storage's
 * containers.json and images.json (name, image, digest).
 */
#include "sense/workload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/json_read.h"
#include "sense/host_mounts.h"

#define STATE_MAX (1u << 20)
#define STORAGE_MAX (16u << 20)	/* podman's containers.json lists every container */

const char *const sg_workload_default_roots[] = {
	"/run/runc",			/* podman, runc run */
	"/run/containerd/runc",		/* containerd: <namespace>/<id> (k8s.io for the CRI) */
	"/run/docker/runtime-runc",	/* docker: moby/<id> */
	NULL,
};

/*
 * Whole file, only if root owns it and nobody else may write it or the
 * directory it is in: anything else could be a user's forgery.
 */
static int read_trusted(const char *path, size_t max, char **out, size_t *len)
{
	char dir[PATH_MAX], *slash, *buf;
	struct stat st;
	ssize_t n = 0;
	size_t off = 0;
	int fd, err;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	if (stat(dir, &st) || st.st_uid != 0 || (st.st_mode & 022))
		return -EPERM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) ||
	    (size_t)st.st_size > max) {
		close(fd);
		return -EPERM;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (off < (size_t)st.st_size && (n = read(fd, buf + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[off] = '\0';
	*out = buf;
	*len = off;
	return 0;
}

static int parse_file(const char *path, size_t max, struct sg_jv *v)
{
	char *buf;
	size_t len;
	int err = read_trusted(path, max, &buf, &len);

	if (err)
		return err;
	err = sg_jv_parse(buf, len, v);
	free(buf);
	return err;
}

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static const char *annotation(const struct sg_workload_info *wl, const char *key)
{
	const char *p = wl->labels, *end = wl->labels + wl->labels_len;

	while (p < end) {
		const char *v = p + strlen(p) + 1;

		if (!strcmp(p, key))
			return v;
		p = v + strlen(v) + 1;
	}
	return NULL;
}

static void take_annotations(struct sg_workload_info *wl, const struct sg_jv *ann)
{
	size_t i;

	if (!ann || ann->type != SG_JV_OBJ)
		return;
	for (i = 0; i < ann->n && wl->nlabels < SG_WL_LABELS_MAX; i++) {
		const char *v = sg_jv_str(&ann->items[i]);
		size_t kl = strlen(ann->keys[i]), vl;

		/* A NUL inside would make two labels look like one. */
		if (!v || strlen(v) != ann->items[i].slen || kl == 0)
			continue;
		vl = strlen(v);
		if (wl->labels_len + kl + vl + 2 > sizeof(wl->labels))
			continue;
		memcpy(wl->labels + wl->labels_len, ann->keys[i], kl + 1);
		memcpy(wl->labels + wl->labels_len + kl + 1, v, vl + 1);
		wl->labels_len += kl + vl + 2;
		wl->nlabels++;
	}
}

void sg_workload_attrs(const struct sg_workload_info *wl, struct sg_workload_attrs *a,
		       char **keys, char **values)
{
	const char *p = wl->labels, *end = wl->labels + wl->labels_len;
	size_t n = 0;

	while (p < end && n < SG_WL_LABELS_MAX) {
		keys[n] = (char *)p;
		p += strlen(p) + 1;
		values[n++] = (char *)p;
		p += strlen(p) + 1;
	}
	*a = (struct sg_workload_attrs){
		.id = wl->id,
		.runtime = sg_runtime_name(wl->runtime),
		.name = wl->name,
		.image = wl->image,
		.image_digest = wl->image_digest,
		.pod_namespace = wl->pod_namespace,
		.pod_name = wl->pod_name,
		.pod_uid = wl->pod_uid,
		.k8s_container = wl->k8s_container,
		.label_keys = keys,
		.label_values = values,
		.nlabels = n,
	};
}

/* Kubernetes fields, as containerd's CRI plugin and CRI-O write them. */
static void take_kubernetes(struct sg_workload_info *wl)
{
	static const char *const ns[] = { "io.kubernetes.cri.sandbox-namespace",
					  "io.kubernetes.pod.namespace" };
	static const char *const pod[] = { "io.kubernetes.cri.sandbox-name",
					   "io.kubernetes.pod.name" };
	static const char *const uid[] = { "io.kubernetes.cri.sandbox-uid",
					   "io.kubernetes.pod.uid" };
	static const char *const ctr[] = { "io.kubernetes.cri.container-name",
					   "io.kubernetes.container.name" };
	static const char *const img[] = { "io.kubernetes.cri.image-name",
					   "io.kubernetes.cri-o.ImageName" };
	unsigned k;

	for (k = 0; k < 2; k++) {
		if (!wl->pod_namespace[0] && annotation(wl, ns[k]))
			copy(wl->pod_namespace, sizeof(wl->pod_namespace), annotation(wl, ns[k]));
		if (!wl->pod_name[0] && annotation(wl, pod[k]))
			copy(wl->pod_name, sizeof(wl->pod_name), annotation(wl, pod[k]));
		if (!wl->pod_uid[0] && annotation(wl, uid[k]))
			copy(wl->pod_uid, sizeof(wl->pod_uid), annotation(wl, uid[k]));
		if (!wl->k8s_container[0] && annotation(wl, ctr[k]))
			copy(wl->k8s_container, sizeof(wl->k8s_container), annotation(wl, ctr[k]));
		if (!wl->image[0] && annotation(wl, img[k]))
			copy(wl->image, sizeof(wl->image), annotation(wl, img[k]));
	}
}

/* podman: name and image from containers/storage, next to the bundle. */
static void take_podman_storage(struct sg_workload_info *wl, const char *bundle)
{
	char root[PATH_MAX], path[PATH_MAX + 64], image_id[80] = "";
	struct sg_jv cs, is, meta;
	const char *s;
	size_t i, k;

	/* The bundle is GRAPHROOT/overlay-containers/<id>/userdata. */
	snprintf(root, sizeof(root), "%s", bundle);
	for (k = 0; k < 3; k++) {
		char *slash = strrchr(root, '/');

		if (!slash || slash == root)
			return;
		*slash = '\0';
	}
	snprintf(path, sizeof(path), "%s/overlay-containers/containers.json", root);
	if (parse_file(path, STORAGE_MAX, &cs))
		return;
	for (i = 0; cs.type == SG_JV_ARR && i < cs.n; i++) {
		const struct sg_jv *c = &cs.items[i];
		const struct sg_jv *names = sg_jv_get(c, "names");

		if ((s = sg_jv_str(sg_jv_get(c, "id"))) == NULL || strcmp(s, wl->id))
			continue;
		if (names && names->type == SG_JV_ARR && names->n)
			copy(wl->name, sizeof(wl->name), sg_jv_str(&names->items[0]));
		copy(image_id, sizeof(image_id), sg_jv_str(sg_jv_get(c, "image")));
		s = sg_jv_str(sg_jv_get(c, "metadata"));
		if (s && sg_jv_parse(s, strlen(s), &meta) == 0) {
			copy(wl->image, sizeof(wl->image), sg_jv_str(sg_jv_get(&meta, "image-name")));
			sg_jv_free(&meta);
		}
		break;
	}
	sg_jv_free(&cs);
	if (!image_id[0])
		return;
	snprintf(path, sizeof(path), "%s/overlay-images/images.json", root);
	if (parse_file(path, STORAGE_MAX, &is))
		return;
	for (i = 0; is.type == SG_JV_ARR && i < is.n; i++) {
		const struct sg_jv *im = &is.items[i];

		if ((s = sg_jv_str(sg_jv_get(im, "id"))) && !strcmp(s, image_id)) {
			copy(wl->image_digest, sizeof(wl->image_digest),
			     sg_jv_str(sg_jv_get(im, "digest")));
			break;
		}
	}
	sg_jv_free(&is);
}

/* The super options of the overlay mounted at `root` (the last such mount). */
static int overlay_options(const char *root, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *tok, *mnt = NULL, *sep = strstr(line, " - ");
		char *fstype, *opts, *lo;

		unsigned k = 0;

		if (!sep)
			continue;
		*sep = '\0';
		for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			if (++k == 5)
				mnt = tok;
		if (!mnt)
			continue;
		sg_mountinfo_unescape(mnt);
		if (strcmp(mnt, root))
			continue;
		save = NULL;
		fstype = strtok_r(sep + 3, " ", &save);
		strtok_r(NULL, " ", &save);	/* source */
		opts = strtok_r(NULL, " \n", &save);
		if (!fstype || strcmp(fstype, "overlay") || !opts) {
			err = -EMEDIUMTYPE;
			continue;
		}
		lo = opts;
		if (snprintf(out, len, "%s", lo) >= (int)len) {
			err = -ENAMETOOLONG;
			continue;
		}
		err = 0;
	}
	free(line);
	fclose(f);
	return err;
}


/* The value of option `key` in a comma-separated list (a copy in out), or NULL. */
static char *option(const char *opts, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);
	const char *p = opts;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			if (n - klen - 1 >= len)
				return NULL;
			memcpy(out, p + klen + 1, n - klen - 1);
			out[n - klen - 1] = '\0';
			sg_mountinfo_unescape(out);
			return out;
		}
		p = comma ? comma + 1 : NULL;
	}
	return NULL;
}

static bool add_layer(struct sg_workload_info *wl, const char *dir)
{
	char real[PATH_MAX];
	size_t n;

	if (!realpath(dir, real))
		return false;
	n = strlen(real) + 1;
	if (wl->layers_len + n > sizeof(wl->layers))
		return false;
	memcpy(wl->layers + wl->layers_len, real, n);
	wl->layers_len += n;
	return true;
}

/* The layers of an overlay root (the runtime mounted it before the container started). */
static void take_layers(struct sg_workload_info *wl)
{
	size_t len = 1u << 20;
	char *opts = malloc(len), *dirs = malloc(len), *d, *save = NULL;
	bool ok = true;

	if (!opts || !dirs || overlay_options(wl->rootfs, opts, len))
		goto out;
	if (option(opts, "upperdir", dirs, len)) {
		ok = add_layer(wl, dirs);
		wl->upper_len = wl->layers_len;
	}
	if (!ok || !option(opts, "lowerdir", dirs, len))
		goto out;
	for (d = strtok_r(dirs, ":", &save); d && ok; d = strtok_r(NULL, ":", &save))
		ok = add_layer(wl, d);
	wl->overlay = ok;
out:
	if (!wl->overlay)
		wl->layers_len = wl->upper_len = 0;
	free(opts);
	free(dirs);
}

/* The runtime, from where the bundle is and what the annotations say. */
static enum sg_runtime runtime_of(const struct sg_workload_info *wl, const char *bundle)
{
	const char *mgr = annotation(wl, "io.container.manager");
	const char *task = strstr(bundle, "/io.containerd.runtime.v2.task/");

	if (mgr && !strcmp(mgr, "libpod"))
		return SG_RUNTIME_PODMAN;
	if (task && !strncmp(task + strlen("/io.containerd.runtime.v2.task/"), "moby/", 5))
		return SG_RUNTIME_DOCKER;
	if (task)
		return SG_RUNTIME_CONTAINERD;
	if (annotation(wl, "io.kubernetes.cri-o.ContainerID"))
		return SG_RUNTIME_CRIO;
	return SG_RUNTIME_NONE;
}

/* The cgroup to match processes against: v2 when the runtime used it. */
static int take_cgroup(struct sg_workload *wl, const struct sg_jv *paths)
{
	static const char *const v1[] = { "name=systemd", "pids" };
	const char *s = sg_jv_str(sg_jv_get(paths, ""));
	unsigned k;

	if (s && *s) {
		struct stat st;

		copy(wl->cgroup, sizeof(wl->cgroup), s);
		wl->cgroup_v2 = true;
		if (stat(wl->cgroup, &st) == 0)
			wl->cgroup_ino = st.st_ino;
		return 0;
	}
	for (k = 0; k < 2; k++) {
		s = sg_jv_str(sg_jv_get(paths, v1[k]));
		if (s && *s) {
			copy(wl->cgroup, sizeof(wl->cgroup), s);
			return 0;
		}
	}
	return -ENOENT;
}

int sg_workload_read_state(const char *state_json, struct sg_workload *w)
{
	struct sg_workload_info *wl = &w->info;
	char bundle[PATH_MAX] = "", config[PATH_MAX + 16];
	const struct sg_jv *cfg, *labels;
	struct sg_jv st, oci;
	const char *s;
	size_t i;
	int err;

	memset(w, 0, sizeof(*w));
	err = parse_file(state_json, STATE_MAX, &st);
	if (err)
		return err;
	err = -EINVAL;
	s = sg_jv_str(sg_jv_get(&st, "id"));
	cfg = sg_jv_get(&st, "config");
	if (!s || !*s || strlen(s) > SG_WL_ID_MAX || !cfg)
		goto out;
	copy(wl->id, sizeof(wl->id), s);
	wl->init_pid = (pid_t)(sg_jv_get(&st, "init_process_pid") ?
			       sg_jv_get(&st, "init_process_pid")->u : 0);
	copy(wl->rootfs, sizeof(wl->rootfs), sg_jv_str(sg_jv_get(cfg, "rootfs")));
	if (wl->rootfs[0] != '/' || take_cgroup(w, sg_jv_get(&st, "cgroup_paths")))
		goto out;
	/* runc keeps the bundle among its labels: "bundle=/path". */
	labels = sg_jv_get(cfg, "labels");
	for (i = 0; labels && labels->type == SG_JV_ARR && i < labels->n; i++) {
		s = sg_jv_str(&labels->items[i]);
		if (s && !strncmp(s, "bundle=", 7))
			copy(bundle, sizeof(bundle), s + 7);
	}
	if (bundle[0] == '/') {
		snprintf(config, sizeof(config), "%s/config.json", bundle);
		if (parse_file(config, STATE_MAX, &oci) == 0) {
			take_annotations(wl, sg_jv_get(&oci, "annotations"));
			sg_jv_free(&oci);
		}
	}
	wl->runtime = runtime_of(wl, bundle);
	if (wl->runtime == SG_RUNTIME_PODMAN)
		take_podman_storage(wl, bundle);
	take_kubernetes(wl);
	take_layers(wl);
	/* containerd names a container by its id; the pod spec's name wins. */
	if (!wl->name[0])
		copy(wl->name, sizeof(wl->name), wl->k8s_container[0] ? wl->k8s_container : wl->id);
	err = 0;
out:
	sg_jv_free(&st);
	if (err)
		memset(w, 0, sizeof(*w));
	return err;
}

static bool path_under(const char *path, const char *dir, size_t dlen)
{
	return !strncmp(path, dir, dlen) && (path[dlen] == '/' || path[dlen] == '\0');
}

bool sg_workload_has_cgroup(const struct sg_workload *wl, const char *content, size_t len,
			    const char *cg2_root)
{
	const char *line = content, *end = content + len;
	size_t rlen = cg2_root ? strlen(cg2_root) : 0;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *stop = nl ? nl : end;
		const char *c1 = memchr(line, ':', (size_t)(stop - line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(stop - c1 - 1)) : NULL;
		char rel[PATH_MAX], full[PATH_MAX * 2];

		if (c2 && (size_t)(stop - c2 - 1) < sizeof(rel)) {
			bool v2 = c1 - line == 1 && line[0] == '0' && c2 == c1 + 1;
			bool v1 = !v2 && ((size_t)(c2 - c1 - 1) == strlen("name=systemd") &&
					  !memcmp(c1 + 1, "name=systemd", 12));
			bool pids = !v2 && (size_t)(c2 - c1 - 1) == 4 && !memcmp(c1 + 1, "pids", 4);

			memcpy(rel, c2 + 1, (size_t)(stop - c2 - 1));
			rel[stop - c2 - 1] = '\0';
			if (wl->cgroup_v2 && v2 && rlen) {
				snprintf(full, sizeof(full), "%s%s", cg2_root, strcmp(rel, "/") ? rel : "");
				if (path_under(full, wl->cgroup, strlen(wl->cgroup)))
					return true;
			} else if (!wl->cgroup_v2 && (v1 || pids)) {
				/* WL's path is MOUNT + rel of the container: one of rel's prefixes. */
				size_t wlen = strlen(wl->cgroup), k;

				for (k = strlen(rel); k > 0; k--) {
					if (rel[k] != '\0' && rel[k] != '/')
						continue;
					if (k <= wlen && !memcmp(wl->cgroup + wlen - k, rel, k))
						return true;
				}
			}
		}
		line = stop + 1;
	}
	return false;
}

int sg_workload_container_path(const struct sg_workload_info *wl, const char *host_path,
			       char *out, size_t len)
{
	const char *dir = wl->layers, *end = wl->layers + wl->layers_len, *rest = NULL;
	size_t rlen = strlen(wl->rootfs);

	while (rlen > 1 && wl->rootfs[rlen - 1] == '/')
		rlen--;
	if (rlen && path_under(host_path, wl->rootfs, rlen))
		rest = host_path + rlen;
	/* The kernel names a file of an overlay by its layer's file at times. */
	for (; !rest && dir < end; dir += strlen(dir) + 1)
		if (path_under(host_path, dir, strlen(dir)))
			rest = host_path + strlen(dir);
	if (!rest)
		return -ENOENT;
	if (snprintf(out, len, "%s", rest[0] ? rest : "/") >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}
