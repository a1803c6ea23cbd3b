/* SPDX-License-Identifier: Apache-2.0 */
/* `sysguardctl policy keygen|sign|verify`: signed policy bundles (POL-2). */
#ifndef SG_POLICY_CMD_H
#define SG_POLICY_CMD_H

/* argv[0] is "policy". Returns the process exit code (0 ok, 1 refused/failed, 2 usage). */
int sg_cmd_policy(int argc, char **argv);

#endif
