// SPDX-License-Identifier: Apache-2.0
#include "sense/script_args.h"

#include <stdbool.h>
#include <string.h>

/*
 * How one family reads its options. Short options cluster (-ec); a letter
 * in `inline_s` means the code is in argv, one in `value_s` takes the rest
 * of the word or the next word, one in `rest_s` takes only the rest of the
 * word, one in `digits_s` only the digits after it (perl -l0 -0777 -le),
 * one in `file_s` names the script in the rest or the next word.
 */
struct family {
	const char *inline_s, *value_s, *rest_s, *digits_s, *file_s, *stdin_s, *none_s;
	const char *const *inline_l, *const *value_l, *const *none_l, *const *file_l;
	bool plus_options;		/* shells: +x, +o name */
};

static const char *const no_words[] = { NULL };
static const char *const help_words[] = { "--help", "--version", NULL };
static const char *const shell_value_l[] = { "--rcfile", "--init-file", NULL };
static const char *const python_value_l[] = { "--check-hash-based-pycs", NULL };
static const char *const node_inline_l[] = { "--eval", "--print", NULL };
static const char *const node_value_l[] = { "--require", "--import", "--loader",
					    "--experimental-loader", "--input-type", "--title",
					    "--conditions", "--inspect-port", NULL };
static const char *const ruby_value_l[] = { "--encoding", "--external-encoding",
					    "--internal-encoding", NULL };

static const struct family families[] = {
	[SG_INTERP_SHELL] = { .inline_s = "c", .value_s = "oO", .rest_s = "", .digits_s = "", .file_s = "",
			      .stdin_s = "s", .none_s = "", .inline_l = no_words,
			      .value_l = shell_value_l, .none_l = help_words, .file_l = no_words,
			      .plus_options = true },
	[SG_INTERP_PYTHON] = { .inline_s = "cm", .value_s = "WX", .rest_s = "", .digits_s = "", .file_s = "",
			       .stdin_s = "", .none_s = "hV", .inline_l = no_words,
			       .value_l = python_value_l, .none_l = help_words, .file_l = no_words },
	[SG_INTERP_PERL] = { .inline_s = "eE", .value_s = "I", .rest_s = "MmixCdDX", .digits_s = "l0",
			     .file_s = "", .stdin_s = "", .none_s = "vV", .inline_l = no_words,
			     .value_l = no_words, .none_l = help_words, .file_l = no_words },
	[SG_INTERP_RUBY] = { .inline_s = "e", .value_s = "IrCE", .rest_s = "xFK", .digits_s = "0TW", .file_s = "",
			     .stdin_s = "", .none_s = "vh", .inline_l = no_words,
			     .value_l = ruby_value_l, .none_l = help_words, .file_l = no_words },
	[SG_INTERP_NODE] = { .inline_s = "ep", .value_s = "r", .rest_s = "", .digits_s = "", .file_s = "",
			     .stdin_s = "", .none_s = "vh", .inline_l = node_inline_l,
			     .value_l = node_value_l, .none_l = help_words, .file_l = no_words },
	[SG_INTERP_PHP] = { .inline_s = "rBRE", .value_s = "dcz", .rest_s = "", .digits_s = "", .file_s = "fF",
			    .stdin_s = "", .none_s = "vhim", .inline_l = no_words,
			    .value_l = no_words, .none_l = help_words, .file_l = no_words },
};

static bool in_words(const char *const *w, const char *a)
{
	size_t n;

	for (; *w; w++) {
		n = strlen(*w);
		/* --eval=CODE and --require=MOD carry their value in the word. */
		if (!strncmp(a, *w, n) && (a[n] == '\0' || a[n] == '='))
			return true;
	}
	return false;
}

static bool has(const char *set, char c)
{
	return c && strchr(set, c);
}

enum sg_script_kind sg_script_of(enum sg_interp_kind k, const char *args, size_t len,
				 const char **file)
{
	const struct family *f;
	const char *rcfile = NULL;
	bool skip_next = false, rc_next = false, file_next = false, options = true, first = true;
	size_t off = 0;

	*file = NULL;
	if (k <= SG_INTERP_NONE || k > SG_INTERP_PHP)
		return SG_SCRIPT_NONE;
	f = &families[k];
	while (off < len) {
		const char *a = args + off;
		size_t alen = strlen(a), i;

		off += alen + 1;
		if (first) {
			first = false;
			continue;
		}
		if (file_next) {
			*file = a;
			return SG_SCRIPT_FILE;
		}
		if (skip_next || rc_next) {
			if (rc_next)
				rcfile = a;
			skip_next = rc_next = false;
			continue;
		}
		if (!options || (a[0] != '-' && !(f->plus_options && a[0] == '+')) || alen == 1) {
			if (options && !strcmp(a, "-")) {
				/* A shell reads "-" as "--"; the others read stdin. */
				if (k != SG_INTERP_SHELL || off >= len)
					return SG_SCRIPT_STDIN;
				*file = args + off;
				return SG_SCRIPT_FILE;
			}
			*file = a;
			return SG_SCRIPT_FILE;
		}
		if (!strcmp(a, "--")) {
			options = false;
			continue;
		}
		if (a[1] == '-') {
			if (in_words(f->inline_l, a))
				return SG_SCRIPT_INLINE;
			if (in_words(f->none_l, a))
				return SG_SCRIPT_NONE;
			if (in_words(f->value_l, a) && !strchr(a, '=')) {
				/* A shell's rc file is code too: judged when nothing else is run. */
				if (k == SG_INTERP_SHELL)
					rc_next = true;
				else
					skip_next = true;
			}
			continue;
		}
		for (i = 1; i < alen; i++) {
			char c = a[i];

			if (has(f->inline_s, c))
				return SG_SCRIPT_INLINE;
			if (has(f->stdin_s, c))
				return SG_SCRIPT_STDIN;
			if (has(f->none_s, c) && a[0] == '-')
				return SG_SCRIPT_NONE;
			if (has(f->file_s, c)) {
				if (a[i + 1]) {
					*file = a + i + 1;
					return SG_SCRIPT_FILE;
				}
				file_next = true;
				break;
			}
			if (has(f->value_s, c)) {
				skip_next = a[i + 1] == '\0';
				break;
			}
			if (has(f->rest_s, c))
				break;
			if (has(f->digits_s, c))
				i += strspn(a + i + 1, "0123456789");
		}
	}
	if (rcfile) {
		*file = rcfile;
		return SG_SCRIPT_FILE;
	}
	return SG_SCRIPT_STDIN;
}

enum sg_interp_kind sg_interp_kind_of(const char *base)
{
	static const struct {
		const char *prefix;
		enum sg_interp_kind k;
	} names[] = {
		{ "bash", SG_INTERP_SHELL }, { "dash", SG_INTERP_SHELL }, { "sh", SG_INTERP_SHELL },
		{ "zsh", SG_INTERP_SHELL }, { "ksh", SG_INTERP_SHELL }, { "mksh", SG_INTERP_SHELL },
		{ "ash", SG_INTERP_SHELL }, { "python", SG_INTERP_PYTHON },
		{ "perl", SG_INTERP_PERL }, { "ruby", SG_INTERP_RUBY }, { "node", SG_INTERP_NODE },
		{ "nodejs", SG_INTERP_NODE }, { "php", SG_INTERP_PHP },
	};
	size_t i, n;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i].prefix);
		/* python3, python3.11, perl5.36.0, php8.2: a version may follow. */
		if (!strncmp(base, names[i].prefix, n) &&
		    strspn(base + n, "0123456789.") == strlen(base + n))
			return names[i].k;
	}
	return SG_INTERP_NONE;
}

const char *sg_interp_kind_name(enum sg_interp_kind k)
{
	static const char *const n[] = { "none", "shell", "python", "perl", "ruby", "node", "php" };

	return k <= SG_INTERP_PHP ? n[k] : "none";
}

const char *sg_script_kind_name(enum sg_script_kind k)
{
	static const char *const n[] = { "none", "file", "inline", "stdin" };

	return k <= SG_SCRIPT_STDIN ? n[k] : "none";
}
