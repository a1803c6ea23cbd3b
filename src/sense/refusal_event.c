// SPDX-License-Identifier: Apache-2.0
/* Decoding of refusal records (bpf/file_refusal.bpf.c): pure, every length checked. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "sense/decode.h"
#include "sense/file_refusal.h"

static const char *const op_names[SG_ROP_MAX] = {
	[SG_ROP_OPEN_WRITE] = "open_write", [SG_ROP_TRUNCATE] = "truncate",
	[SG_ROP_UNLINK] = "unlink", [SG_ROP_RENAME] = "rename", [SG_ROP_LINK] = "link",
	[SG_ROP_CHMOD] = "chmod", [SG_ROP_CHOWN] = "chown", [SG_ROP_UTIMES] = "utimes",
	[SG_ROP_XATTR] = "xattr",
};

static const char *syscall_name(uint32_t nr)
{
	static const struct { uint32_t nr; const char *name; } t[] = {
		{ 2, "open" }, { 85, "creat" }, { 257, "openat" }, { 437, "openat2" },
		{ 76, "truncate" }, { 77, "ftruncate" }, { 87, "unlink" }, { 263, "unlinkat" },
		{ 82, "rename" }, { 264, "renameat" }, { 316, "renameat2" }, { 86, "link" },
		{ 265, "linkat" }, { 90, "chmod" }, { 91, "fchmod" }, { 268, "fchmodat" },
		{ 452, "fchmodat2" }, { 92, "chown" }, { 93, "fchown" }, { 94, "lchown" },
		{ 260, "fchownat" }, { 132, "utime" }, { 235, "utimes" }, { 261, "futimesat" },
		{ 280, "utimensat" }, { 188, "setxattr" }, { 189, "lsetxattr" },
		{ 190, "fsetxattr" }, { 197, "removexattr" }, { 198, "lremovexattr" },
		{ 199, "fremovexattr" }, { 463, "setxattrat" }, { 466, "removexattrat" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].nr == nr)
			return t[i].name;
	return "?";
}

/*
 * The path as the kernel would have looked it up: absolute as given, or
 * appended to its base directory's path. A base the walk could not finish
 * (too deep, a pseudo file) leaves the path relative: not resolvable here.
 */
static void join(const struct sg_refusal_arg *a, struct sg_refusal_path *out)
{
	char base[SG_PATH_BUF + 2];
	size_t n = strnlen(a->path, sizeof(a->path));

	out->nofollow = a->flags & SG_RA_NOFOLLOW;
	out->absolute = false;
	snprintf(out->path, sizeof(out->path), "%.*s", (int)n, a->path);
	if (!(a->flags & SG_RA_PATH) || (a->flags & SG_RA_TRUNC))
		return;
	if (a->path[0] == '/') {
		out->absolute = true;
		return;
	}
	if (!(a->flags & SG_RA_BASE) || (a->base_flags & (SG_F_PATH_TRUNC | SG_F_PATH_PSEUDO)) ||
	    a->base_len > SG_PATH_BUF || a->base_depth > SG_PATH_DEPTH)
		return;
	sg_path_from_components(a->base, a->base_len, a->base_depth, false, base, sizeof(base));
	if (!base[0])
		snprintf(base, sizeof(base), "/");
	/* AT_EMPTY_PATH: the dirfd is the file itself. */
	if (!n)
		snprintf(out->path, sizeof(out->path), "%s", base);
	else
		snprintf(out->path, sizeof(out->path), "%s%s%.*s", base,
			 base[strlen(base) - 1] == '/' ? "" : "/", (int)n, a->path);
	out->absolute = true;
}

int sg_refusal_decode(const void *data, size_t size, struct sg_refusal_view *v)
{
	const struct sg_refusal_event *e = data;
	unsigned i;

	if (size < sizeof(*e) || e->hdr.type != SG_EV_FILE_REFUSAL || !e->op ||
	    e->op >= SG_ROP_MAX || e->nargs > 2 || e->exe_len > SG_PATH_BUF ||
	    e->exe_depth > SG_PATH_DEPTH)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	v->ev = e;
	v->op = op_names[e->op];
	v->syscall = syscall_name(e->nr);
	v->write_open = (e->oflags & O_ACCMODE) != O_RDONLY || (e->oflags & O_TRUNC);
	v->npaths = e->nargs;
	for (i = 0; i < v->npaths; i++)
		join(&e->arg[i], &v->paths[i]);
	if (e->exe_len)
		sg_path_from_components(e->exe_path, e->exe_len, e->exe_depth,
					e->exe_flags & SG_F_PATH_PSEUDO, v->exe, sizeof(v->exe));
	return 0;
}
