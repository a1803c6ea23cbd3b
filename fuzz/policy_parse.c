// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: the policy parser and compiler on arbitrary bytes, as a
 * main policy and as a policy fragment (policy.d) merged with one, alone and
 * twice (the checks across files).
 */
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

static const char main_policy[] =
	"version: \"fuzz\"\nmode: enforce\ndefault: allow\n"
	"rules:\n  - {name: r, action: deny, path: /x}\n";

static void use(struct sg_policy *p)
{
	(void)sg_policy_version(p);
	(void)sg_policy_mode(p);
	(void)sg_policy_default_action(p);
	(void)sg_policy_fragment_count(p);
	sg_policy_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_policy_file m = { "main", main_policy, sizeof(main_policy) - 1 };
	struct sg_policy_file f[2] = {
		{ "a.yaml", (const char *)data, size },
		{ "b.yaml", (const char *)data, size },
	};
	struct sg_policy_error err;
	struct sg_policy *p = NULL;

	if (sg_policy_parse((const char *)data, size, "fuzz", &p, &err) == 0)
		use(p);
	p = NULL;
	if (sg_policy_parse_set(&m, f, 1, &p, &err) == 0)
		use(p);
	p = NULL;
	if (sg_policy_parse_set(&m, f, 2, &p, &err) == 0)
		use(p);
	return 0;
}
