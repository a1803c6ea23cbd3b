// SPDX-License-Identifier: Apache-2.0
/*
 * Workload selectors (`container: {image: ..., labels: {...}}`) on rules,
 * and the `drift:` list: which containers may run only what their image
 * brought. The selector is matched against what the container runtime
 * recorded (src/sense/workload.c), never against names a process chose.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

enum sel_key { S_ID, S_RUNTIME, S_NAME, S_IMAGE, S_DIGEST, S_POD_NS, S_POD_NAME, S_LABELS };

static const char *const sel_keys[] = {
	"id", "runtime", "name", "image", "image_digest", "pod_namespace", "pod_name", "labels",
};

static bool text_matches(const char *pattern, const char *value)
{
	if (!pattern)
		return true;
	if (!value || !*value)
		return false;
	return fnmatch(pattern, value, 0) == 0;
}

bool sg_selector_matches(const struct sg_selector *s, const struct sg_workload_attrs *w)
{
	size_t i, k;

	if (!w)
		return false;
	/* An id is matched as a prefix, as operators copy short ids. */
	if (s->id && (!w->id || strncmp(w->id, s->id, strlen(s->id))))
		return false;
	if (s->runtime && (!w->runtime || strcmp(s->runtime, w->runtime)))
		return false;
	if (!text_matches(s->name, w->name) || !text_matches(s->image, w->image) ||
	    !text_matches(s->pod_namespace, w->pod_namespace) ||
	    !text_matches(s->pod_name, w->pod_name))
		return false;
	if (s->image_digest && (!w->image_digest || strcmp(s->image_digest, w->image_digest)))
		return false;
	for (i = 0; i < s->nlabels; i++) {
		bool found = false;

		for (k = 0; k < w->nlabels && !found; k++)
			found = !strcmp(s->label_keys[i], w->label_keys[k]) &&
				!strcmp(s->label_values[i], w->label_values[k]);
		if (!found)
			return false;
	}
	return true;
}

void sg_selector_free(struct sg_selector *s)
{
	size_t i;

	free(s->id);
	free(s->runtime);
	free(s->name);
	free(s->image);
	free(s->image_digest);
	free(s->pod_namespace);
	free(s->pod_name);
	for (i = 0; i < s->nlabels; i++) {
		free(s->label_keys[i]);
		free(s->label_values[i]);
	}
	free(s->label_keys);
	free(s->label_values);
}

static int take_labels(struct parser *ps, struct sg_selector *s)
{
	int rc;

	if (ps->ev.type != YAML_MAPPING_START_EVENT)
		return fail(ps, ps->ev.start_mark,
			    "container \"labels\" must be a mapping such as {app: web}");
	for (;;) {
		char **k, **v;

		rc = sg_pp_next(ps);
		if (rc)
			return rc;
		if (ps->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (ps->ev.type != YAML_SCALAR_EVENT || slen(ps) == 0 || strlen(sval(ps)) != slen(ps))
			return fail(ps, ps->ev.start_mark, "a container label name must be plain text");
		k = realloc(s->label_keys, (s->nlabels + 1) * sizeof(*k));
		if (!k)
			return fail_nomem(ps);
		s->label_keys = k;
		v = realloc(s->label_values, (s->nlabels + 1) * sizeof(*v));
		if (!v)
			return fail_nomem(ps);
		s->label_values = v;
		s->label_keys[s->nlabels] = NULL;
		s->label_values[s->nlabels] = NULL;
		s->nlabels++;
		rc = sg_pp_dup_value(ps, &s->label_keys[s->nlabels - 1]);
		if (!rc)
			rc = sg_pp_next(ps);
		if (!rc)
			rc = sg_pp_want_scalar(ps, "a container label's value");
		if (!rc && strlen(sval(ps)) != slen(ps))
			return fail(ps, ps->ev.start_mark, "a container label's value must be plain text");
		if (!rc)
			rc = sg_pp_dup_value(ps, &s->label_values[s->nlabels - 1]);
		if (rc)
			return rc;
	}
}

static int take_selector_value(struct parser *ps, size_t k, void *item)
{
	static const char *const runtimes[] = { "podman", "containerd", "docker", "cri-o" };
	struct sg_selector *s = item;
	char **field[] = { &s->id, &s->runtime, &s->name, &s->image, &s->image_digest,
			   &s->pod_namespace, &s->pod_name };
	char what[48];
	size_t i;
	int rc;

	if (k == S_LABELS)
		return take_labels(ps, s);
	snprintf(what, sizeof(what), "container \"%s\"", sel_keys[k]);
	rc = sg_pp_want_scalar(ps, what);
	if (rc)
		return rc;
	if (slen(ps) == 0 || strlen(sval(ps)) != slen(ps))
		return fail(ps, ps->ev.start_mark, "%s must be non-empty plain text", what);
	if (k == S_RUNTIME) {
		for (i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
			if (!strcmp(sval(ps), runtimes[i]))
				break;
		if (i == sizeof(runtimes) / sizeof(runtimes[0]))
			return fail(ps, ps->ev.start_mark,
				    "%s must be podman, containerd, docker or cri-o", what);
	}
	if (k == S_DIGEST && (strncmp(sval(ps), "sha256:", 7) || slen(ps) != 7 + 64))
		return fail(ps, ps->ev.start_mark,
			    "%s must be \"sha256:\" and 64 hex digits, as `podman image inspect` shows it",
			    what);
	return sg_pp_dup_value(ps, field[k]);
}

int sg_pp_take_selector(struct parser *ps, uint32_t *scope)
{
	struct sg_policy *p = ps->p;
	struct sg_selector *s;
	unsigned seen = 0;
	int rc;

	if (ps->ev.type != YAML_MAPPING_START_EVENT)
		return fail(ps, ps->ev.start_mark,
			    "\"container\" must be a mapping such as {image: \"localhost/web:*\"} ({} for any container)");
	if (p->nselectors == p->sel_cap) {
		size_t cap = p->sel_cap ? p->sel_cap * 2 : 8;
		void *v = realloc(p->selectors, cap * sizeof(*p->selectors));

		if (!v)
			return fail_nomem(ps);
		p->selectors = v;
		p->sel_cap = cap;
	}
	s = &p->selectors[p->nselectors++];
	memset(s, 0, sizeof(*s));
	s->line = (unsigned)ps->ev.start_mark.line + 1;
	s->column = (unsigned)ps->ev.start_mark.column + 1;
	rc = sg_pp_parse_mapping(ps, "container", sel_keys, sizeof(sel_keys) / sizeof(sel_keys[0]),
				 &seen, take_selector_value, s);
	if (rc)
		return rc;
	*scope = (uint32_t)p->nselectors;
	return 0;
}

/* drift: [{name, action: deny|audit, container: {...}}] */
enum drift_key { D_NAME, D_ACTION, D_CONTAINER };

static const char *const drift_keys[] = { "name", "action", "container" };

struct drift_item {
	struct sg_rule *r;
	struct sg_rule_ext x;
};

static int take_drift_value(struct parser *ps, size_t k, void *item)
{
	struct drift_item *d = item;
	char what[48];
	int rc;

	snprintf(what, sizeof(what), "drift rule %u: \"%s\"", d->r->id, drift_keys[k]);
	if (k == D_CONTAINER)
		return sg_pp_take_selector(ps, &d->r->scope);
	rc = sg_pp_want_scalar(ps, what);
	if (rc)
		return rc;
	if (k == D_NAME)
		return sg_pp_take_name(ps, what, d->r, &d->x);
	if (!strcmp(sval(ps), "deny"))
		d->r->action = SG_ACTION_DENY;
	else if (!strcmp(sval(ps), "audit"))
		d->r->action = SG_ACTION_AUDIT;
	else
		return fail(ps, ps->ev.start_mark, "%s must be \"deny\" or \"audit\"", what);
	return 0;
}

static int parse_drift(struct parser *ps)
{
	yaml_mark_t start = ps->ev.start_mark;
	struct sg_policy *p = ps->p;
	struct drift_item d;
	char where[32];
	unsigned seen = 0;
	int rc;

	if (p->ndrift == p->drift_cap) {
		size_t cap = p->drift_cap ? p->drift_cap * 2 : 4;
		void *v = realloc(p->drift, cap * sizeof(*p->drift));

		if (!v)
			return fail_nomem(ps);
		p->drift = v;
		p->drift_cap = cap;
	}
	d.r = &p->drift[p->ndrift++];
	memset(d.r, 0, sizeof(*d.r));
	memset(&d.x, 0, sizeof(d.x));
	d.r->id = (uint32_t)p->ndrift;
	d.r->kind = SG_MATCH_DRIFT;
	d.r->line = (unsigned)start.line + 1;
	d.r->column = (unsigned)start.column + 1;
	d.r->source = sg_pp_source(ps);
	snprintf(where, sizeof(where), "drift rule %u", d.r->id);
	rc = sg_pp_parse_mapping(ps, where, drift_keys, sizeof(drift_keys) / sizeof(drift_keys[0]),
				 &seen, take_drift_value, &d);
	if (rc)
		return rc;
	if (!(seen & (1u << D_ACTION)))
		return fail(ps, start, "drift rule %u: missing \"action\"; add action: deny or action: audit",
			    d.r->id);
	if (!(seen & (1u << D_CONTAINER)))
		return fail(ps, start,
			    "drift rule %u: missing \"container\"; say which containers, e.g. container: {image: \"localhost/web:*\"}",
			    d.r->id);
	if (!(seen & (1u << D_NAME)))
		snprintf(d.r->name, sizeof(d.r->name), "drift-%u", d.r->id);
	return 0;
}

static size_t count_drift(const struct sg_policy *p)
{
	return p->ndrift;
}

const struct list_kind sg_pp_drift_rules = {
	"drift", "drift rule", "action: and container:", parse_drift, count_drift,
};

size_t sg_policy_scoped_rule_count(const struct sg_policy *p)
{
	return p->nscoped;
}

bool sg_policy_has_scoped_name_rules(const struct sg_policy *p)
{
	return p->n_scoped_name > 0;
}

bool sg_policy_scopes(const struct sg_policy *p, const struct sg_workload_attrs *w)
{
	size_t i;

	for (i = 0; w && i < p->nselectors; i++)
		if (sg_selector_matches(&p->selectors[i], w))
			return true;
	return false;
}

const struct sg_rule *sg_policy_drift_rule(const struct sg_policy *p,
					   const struct sg_workload_attrs *w)
{
	size_t i;

	for (i = 0; w && i < p->ndrift; i++)
		if (sg_selector_matches(&p->selectors[p->drift[i].scope - 1], w))
			return &p->drift[i];
	return NULL;
}

size_t sg_policy_drift_rule_count(const struct sg_policy *p)
{
	return p->ndrift;
}

uint64_t sg_policy_net_scope_mask(const struct sg_policy *p, const struct sg_workload_attrs *w)
{
	uint64_t mask = 0;
	size_t i;

	for (i = 0; w && i < p->nnet; i++) {
		const struct sg_net_rule *r = &p->net[i];

		if (r->scope && r->scope_bit &&
		    sg_selector_matches(&p->selectors[r->scope - 1], w))
			mask |= 1ull << (r->scope_bit - 1);
	}
	return mask;
}

bool sg_policy_file_rule_selects(const struct sg_policy *p, const struct sg_file_rule_spec *r,
				 const struct sg_workload_attrs *w)
{
	return r->scope && w && sg_selector_matches(&p->selectors[r->scope - 1], w);
}
