/* SPDX-License-Identifier: Apache-2.0 */
/* sysguardctl's side of the monitoring API (OPS-2): GET over the daemon's Unix socket. */
#ifndef SG_API_CLIENT_H
#define SG_API_CLIENT_H

#include <stdbool.h>

/*
 * GET `path` on the socket with the token read from token_file, body to
 * stdout. With `follow`, an SSE stream: each event's JSON on its own line
 * until the daemon stops. 0, 1 on a refused or failed request (said on
 * stderr).
 */
int sg_api_get(const char *socket_path, const char *token_file, const char *path, bool follow);

#endif
