// SPDX-License-Identifier: Apache-2.0
#include "report/net_record.h"

#include <stdio.h>
#include <string.h>

#include "report/container_record.h"
#include "report/exec_record.h"
#include "report/json.h"

uint64_t sg_record_net(struct sg_audit *a, struct sg_alerts *alerts,
		       const struct sg_net_facts *f, enum sg_mode mode)
{
	bool deny = f->rule->action == SG_NET_DENY;
	enum sg_severity sev = !deny ? SG_SEV_INFO : f->blocked ? SG_SEV_CRITICAL : SG_SEV_WARNING;
	struct sg_json j;
	uint64_t id;

	sg_json_init(&j);
	id = sg_audit_begin(a, &j, "network", sev);
	sg_json_kv_str(&j, "action", f->op);
	sg_json_kv_str(&j, "decision", sg_net_action_name(f->rule->action));
	sg_json_kv_bool(&j, "blocked", f->blocked);
	sg_json_kv_str(&j, "mode", sg_mode_name(mode));
	sg_json_key(&j, "rule");
	sg_json_begin_object(&j);
	sg_json_kv_u64(&j, "id", f->rule->id);
	sg_json_kv_str(&j, "name", f->rule->name);
	sg_json_kv_u64(&j, "line", f->rule->line);
	if (f->rule->fragment) {
		sg_json_kv_str(&j, "fragment", f->rule->fragment);
		sg_json_kv_bytes(&j, "file", f->rule->source, strlen(f->rule->source));
	}
	sg_json_end_object(&j);
	sg_json_key(&j, "destination");
	sg_json_begin_object(&j);
	sg_json_kv_str(&j, "ip", f->daddr);
	if (f->mapped) {
		char v6[64];

		snprintf(v6, sizeof(v6), "::ffff:%s", f->daddr);
		sg_json_kv_str(&j, "ipv6", v6);
	}
	sg_json_kv_u64(&j, "port", f->dport);
	sg_json_kv_str(&j, "protocol", f->protocol);
	sg_json_end_object(&j);
	sg_json_key(&j, "process");
	sg_json_begin_object(&j);
	sg_json_kv_i64(&j, "pid", f->pid);
	sg_json_kv_i64(&j, "ppid", f->ppid);
	sg_json_kv_u64(&j, "uid", f->uid);
	sg_json_kv_u64(&j, "gid", f->gid);
	sg_json_kv_bytes(&j, "comm", f->comm, strnlen(f->comm, sizeof(f->comm)));
	if (f->has_exe)
		sg_json_kv_bytes(&j, "exe", f->exe, strlen(f->exe));
	else
		sg_json_kv_str(&j, "exe", NULL);
	sg_json_kv_u64(&j, "cgroup_id", f->cgroup_id);
	sg_record_container_of(&j, f->pid, f->cgroup_id, NULL);
	sg_json_end_object(&j);
	sg_audit_commit(a, &j);
	sg_json_free(&j);
	if (alerts && deny) {
		char detail[96];

		snprintf(detail, sizeof(detail), "%s %s port %u", f->op, f->daddr, f->dport);
		sg_record_alert(a, alerts, "deny", id, sev, f->has_exe ? f->exe : NULL,
				strlen(f->exe), f->rule->name, f->op, detail);
	}
	return id;
}
