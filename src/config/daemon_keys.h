/* SPDX-License-Identifier: Apache-2.0 */
#ifndef SG_DAEMON_KEYS_H
#define SG_DAEMON_KEYS_H

/* The keys of sysguardd's settings file ("section.key"), NULL-terminated; anything else is a typo. */
extern const char *const sg_daemon_config_keys[];

#endif
