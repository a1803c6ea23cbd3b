/* SPDX-License-Identifier: Apache-2.0 */
/* What an interpreter's argv asks it to run: a script file, inline code, stdin, or nothing. */
#ifndef SG_SCRIPT_ARGS_H
#define SG_SCRIPT_ARGS_H

#include <stddef.h>

/* Language families: each parses its options its own way. */
enum sg_interp_kind {
	SG_INTERP_NONE = 0,
	SG_INTERP_SHELL,	/* bash, dash, sh, zsh, ksh, busybox sh */
	SG_INTERP_PYTHON,
	SG_INTERP_PERL,
	SG_INTERP_RUBY,
	SG_INTERP_NODE,
	SG_INTERP_PHP,
};

enum sg_script_kind {
	SG_SCRIPT_NONE = 0,	/* nothing to run: --version, --help */
	SG_SCRIPT_FILE,		/* a file named in argv: bash FILE, python3 FILE, php -f FILE */
	SG_SCRIPT_INLINE,	/* code in argv: bash -c, python3 -c / -m, perl -e, node -e */
	SG_SCRIPT_STDIN,	/* code from standard input (or a terminal: interactive) */
};

/*
 * Which interpreter family an executable's name says, SG_INTERP_NONE if
 * none. Used only on names the operator configured, never on a process's.
 */
enum sg_interp_kind sg_interp_kind_of(const char *basename);
const char *sg_interp_kind_name(enum sg_interp_kind k);

/*
 * argv as NUL-separated bytes (argv[0] first), complete, with args[len]
 * readable and NUL. Sets *file to the script for SG_SCRIPT_FILE (a pointer
 * into args). Pure; bounded by len.
 */
enum sg_script_kind sg_script_of(enum sg_interp_kind k, const char *args, size_t len,
				 const char **file);
const char *sg_script_kind_name(enum sg_script_kind k);

#endif
