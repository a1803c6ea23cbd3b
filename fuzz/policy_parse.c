// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the policy parser and compiler on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_policy_error err;
	struct sg_policy *p = NULL;

	if (sg_policy_parse((const char *)data, size, "fuzz", &p, &err) == 0) {
		(void)sg_policy_version(p);
		(void)sg_policy_mode(p);
		(void)sg_policy_default_action(p);
		sg_policy_free(p);
	}
	return 0;
}
