/* SPDX-License-Identifier: Apache-2.0 */
/* Audit records for egress decisions (NET-1): {"type":"network",...}. */
#ifndef SG_NET_RECORD_H
#define SG_NET_RECORD_H

#include "policy/policy.h"
#include "report/alert.h"
#include "report/audit.h"
#include "sense/facts.h"

/*
 * One "network" record. Severity follows LOG-2: an audit rule's match is
 * info, a deny is warning in monitor mode and critical when it blocked.
 * Denies are also handed to `alerts` (NULL when alerts are off).
 */
uint64_t sg_record_net(struct sg_audit *a, struct sg_alerts *alerts,
		       const struct sg_net_facts *f, enum sg_mode mode);

#endif
