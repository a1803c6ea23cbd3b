// SPDX-License-Identifier: Apache-2.0
#include "sense/decode.h"

#include <errno.h>
#include <string.h>

int sg_event_type(const void *data, size_t size)
{
	struct sg_event_hdr h;

	if (size < sizeof(h))
		return -EINVAL;
	memcpy(&h, data, sizeof(h));
	if ((h.type == SG_EV_EXEC || h.type == SG_EV_LIBRARY) && size >= sizeof(struct sg_exec_event))
		return (int)h.type;
	if (h.type == SG_EV_EXIT && size >= sizeof(struct sg_exit_event))
		return SG_EV_EXIT;
	if (h.type == SG_EV_NET && size >= sizeof(struct sg_net_event))
		return SG_EV_NET;
	return -EINVAL;
}

size_t sg_path_from_components(const char *comp, size_t comp_len, unsigned depth,
			       bool pseudo, char *out, size_t out_len)
{
	const char *starts[SG_PATH_DEPTH];
	size_t lens[SG_PATH_DEPTH];
	unsigned n = 0, i;
	size_t off = 0, pos = 0;

	if (out_len == 0)
		return 0;
	while (off < comp_len && n < depth && n < SG_PATH_DEPTH) {
		const char *s = comp + off;
		const char *nul = memchr(s, '\0', comp_len - off);
		size_t l = nul ? (size_t)(nul - s) : comp_len - off;

		starts[n] = s;
		lens[n] = l;
		n++;
		off += l + 1;
	}
	/* A pseudo file's name (memfd:x) is not below any directory. */
	if (pseudo && n == 1) {
		pos = lens[0] < out_len - 1 ? lens[0] : out_len - 1;
		memcpy(out, starts[0], pos);
		out[pos] = '\0';
		return pos;
	}
	for (i = n; i-- > 0;) {
		if (pos + 1 + lens[i] >= out_len)
			break;
		out[pos++] = '/';
		memcpy(out + pos, starts[i], lens[i]);
		pos += lens[i];
	}
	if (pos == 0 && out_len > 1)
		out[pos++] = '/';
	out[pos] = '\0';
	return pos;
}

int sg_decode_exec(const void *data, size_t size, struct sg_exec_view *v)
{
	const struct sg_exec_event *e = data;

	if (sg_event_type(data, size) != SG_EV_EXEC && sg_event_type(data, size) != SG_EV_LIBRARY)
		return -EINVAL;
	if (e->path_len > SG_PATH_BUF || e->args_len > SG_ARGS_LEN ||
	    e->filename_len >= SG_FILENAME_LEN || e->path_depth > SG_PATH_DEPTH)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	v->ev = e;
	v->path_truncated = e->hdr.flags & SG_F_PATH_TRUNC;
	v->path_len = sg_path_from_components(e->path, e->path_len, e->path_depth,
					      e->hdr.flags & SG_F_PATH_PSEUDO, v->path,
					      sizeof(v->path));
	v->args = e->args;
	v->args_len = e->args_len;
	/* argv ends with a NUL the kernel copied; drop it so the last arg is not empty. */
	if (v->args_len && e->args[v->args_len - 1] == '\0')
		v->args_len--;
	v->filename = e->filename;
	v->filename_len = e->filename_len;
	return 0;
}

int sg_decode_net(const void *data, size_t size, struct sg_net_event *out)
{
	if (sg_event_type(data, size) != SG_EV_NET)
		return -EINVAL;
	memcpy(out, data, sizeof(*out));
	if ((out->family != 4 && out->family != 6) ||
	    (out->op != SG_NET_CONNECT && out->op != SG_NET_SENDMSG) ||
	    (out->action != SG_EGRESS_DENY && out->action != SG_EGRESS_AUDIT &&
	     out->action != SG_EGRESS_ALLOW) || !out->rule_id)
		return -EINVAL;
	out->hdr.comm[sizeof(out->hdr.comm) - 1] = '\0';
	return 0;
}
