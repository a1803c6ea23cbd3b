/* SPDX-License-Identifier: Apache-2.0 */
/* sysguardctl's side of the monitoring API (OPS-2): GET over the daemon's Unix socket. */
#ifndef SG_API_CLIENT_H
#define SG_API_CLIENT_H

#include <stddef.h>

/*
 * GET `path` on the socket with the token read from token_file; the body in
 * *body (malloc'd, NUL-terminated). SG_EXIT_OK; SG_EXIT_FAILED on a refused
 * or failed request; SG_EXIT_NO_DAEMON when nothing answers on the socket
 * (both said on stderr).
 */
int sg_api_fetch(const char *socket_path, const char *token_file, const char *path, char **body,
		 size_t *len);

/*
 * The same as a Server-Sent Events stream: each event's JSON to on_event,
 * until the daemon ends the stream. The same exit codes.
 */
int sg_api_follow(const char *socket_path, const char *token_file, const char *path,
		  void (*on_event)(const char *json, size_t len, void *ctx), void *ctx);

#endif
