/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Path glob matcher used by glob rules and parent constraints. A pattern is
 * compiled once (at policy load) and matched without allocation, in time
 * proportional to pattern length times path length: no backtracking, so no
 * pattern can make a match slow.
 *
 *   *      any run of characters except '/'
 *   ?      one character except '/'
 *   **     any run of characters, '/' included; a whole "**" component
 *          also stands for zero directories ("/a/" "**" "/b" matches /a/b)
 *   [...]  one character (never '/') from a class: ranges a-z, negation
 *          with a leading ! or ^, ']' first is literal, '\' escapes
 *   \c     the character c itself
 */
#ifndef SG_POLICY_GLOB_H
#define SG_POLICY_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* Longest pattern accepted, in bytes (PATH_MAX - 1). */
#define SG_GLOB_MAX_LEN 4095

struct sg_glob;

/*
 * Compile `pattern`. Returns 0, or -EINVAL with *why set to a static
 * explanation a user can act on, or -ENOMEM.
 */
int sg_glob_compile(const char *pattern, struct sg_glob **out, const char **why);

/* True when the whole of `s` matches. Thread-safe on a shared glob. */
bool sg_glob_match(const struct sg_glob *g, const char *s);

void sg_glob_free(struct sg_glob *g);

/*
 * Length of the pattern's literal directory: the bytes before its first
 * '*', '?', '[' or '\\', cut back to just after the last '/' among them (0
 * when there is none). Every string the pattern matches starts with these
 * bytes, so globs can be indexed by them: "/a/b?" gives "/a/", "/a?" gives
 * "/", and a pattern without wildcards its own directory part.
 */
size_t sg_glob_literal_dir(const char *pattern);

#endif
