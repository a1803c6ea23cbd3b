/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the fleet export needs from an audit line (docs/fleet.md): its event
 * id, its type as a NATS subject token, and whether it is one of the records
 * kept longest when the spool fills (denies, kills, criticals). Pure: no I/O.
 */
#ifndef SG_FLEET_RECORD_H
#define SG_FLEET_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#define SG_FLEET_TOKEN_MAX	64

struct sg_fleet_info {
	char event_id[17];		/* 16 hex digits, as the record has it */
	char type[SG_FLEET_TOKEN_MAX];	/* a subject token */
	bool keep;
};

/* 0, or -EINVAL when the line has no event_id (then nothing is published for it). */
int sg_fleet_record_info(const char *line, size_t len, struct sg_fleet_info *out);

/*
 * s as one NATS subject token: letters, digits, '-' and '_' kept, anything
 * else (the '.' and wildcards that would split or widen a subject) '_';
 * cut to fit len; "_" when empty.
 */
void sg_fleet_token(char *out, size_t len, const char *s, size_t slen);

#endif
