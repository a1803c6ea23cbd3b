// SPDX-License-Identifier: Apache-2.0
/*
 * sysguardctl policy trust dpkg: an allow rule, by content hash, for every
 * executable file the package manager installed. Only names are held in
 * memory; each file is hashed as it is read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "sense/file_hash.h"

#define DPKG_INFO "/var/lib/dpkg/info"

static const struct sg_cli_cmd trust_cmd = { "policy trust",
	"sysguardctl policy trust dpkg [-o FILE]\n"
	"\n"
	"Writes a policy (default deny, monitor mode) allowing, by sha256, every executable\n"
	"file that dpkg installed (/var/lib/dpkg/info/*.list), each commented with its\n"
	"package. An upgrade changes the hashes: run it again after upgrades.\n"
	"\n"
	"  -o, --output=FILE     where to write the policy (replaced; default: stdout)\n"
	"  -h, --help            this help\n" };

struct owned {
	char *path;		/* real path of the installed file */
	char *pkg;
	uint8_t sha[SG_SHA256_LEN];
};

struct trust {
	struct owned *v;
	size_t n, cap;
	unsigned long unreadable;
};

static int add(struct trust *t, const char *path, const char *pkg)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct owned *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].path = strdup(path);
	t->v[t->n].pkg = strdup(pkg);
	if (!t->v[t->n].path || !t->v[t->n].pkg)
		return -ENOMEM;
	t->n++;
	return 0;
}

/* Every name in one package's list that is, once resolved, a regular file with an exec bit. */
static int read_list(struct trust *t, const char *dir, const char *file)
{
	char listpath[PATH_MAX], pkg[256], real[PATH_MAX], *line = NULL;
	size_t cap = 0, n = strlen(file) - 5;
	struct stat st;
	ssize_t len;
	FILE *in;
	int rc = 0;

	snprintf(listpath, sizeof(listpath), "%s/%s", dir, file);
	snprintf(pkg, sizeof(pkg), "%.*s", (int)n, file);
	in = fopen(listpath, "re");
	if (!in)
		return 0;
	while (!rc && (len = getline(&line, &cap, in)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (line[0] != '/' || !realpath(line, real) || stat(real, &st))
			continue;
		if (S_ISREG(st.st_mode) && (st.st_mode & 0111))
			rc = add(t, real, pkg);
	}
	free(line);
	fclose(in);
	return rc;
}

static int by_path(const void *a, const void *b)
{
	const struct owned *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : strcmp(x->pkg, y->pkg);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect(struct trust *t, const char *dir)
{
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len <= 5 || strcmp(de->d_name + len - 5, ".list"))
			continue;
		if (n == cap) {
			char **v = realloc(names, (cap = cap ? cap * 2 : 512) * sizeof(*v));

			if (!v) {
				rc = -ENOMEM;
				break;
			}
			names = v;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		if (!rc)
			rc = read_list(t, dir, names[i]);
		free(names[i]);
	}
	free(names);
	return rc;
}

static void name_from(FILE *o, const char *path)
{
	const char *b = strrchr(path, '/');
	size_t k = 0;

	for (b = b ? b + 1 : path; *b && k < 40; b++) {
		if ((*b >= 'a' && *b <= 'z') || (*b >= 'A' && *b <= 'Z') || (*b >= '0' && *b <= '9') ||
		    *b == '.' || *b == '_' || *b == '-') {
			fputc(*b, o);
			k++;
		}
	}
	if (!k)
		fputs("program", o);
}

static void comment(FILE *o, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, o);
}

/*
 * One rule per distinct content, in the order of the first path that has it;
 * the comment names every path and package with that content.
 */
static void write_policy(FILE *o, struct trust *t)
{
	size_t i, j, rules = 0;
	bool *done = calloc(t->n ? t->n : 1, sizeof(bool));

	fputs("# Trusted by sysguardctl policy trust dpkg: executables installed by packages.\n"
	      "# A package upgrade changes the hashes: run this again after upgrades.\n"
	      "version: \"dpkg-trust\"\nmode: monitor\ndefault: deny\nrules:\n", o);
	for (i = 0; done && i < t->n; i++) {
		if (done[i] || !t->v[i].pkg)
			continue;
		for (j = i; j < t->n; j++) {
			if (done[j] || !t->v[j].pkg || memcmp(t->v[j].sha, t->v[i].sha, SG_SHA256_LEN))
				continue;
			done[j] = true;
			fputs(j == i ? "  # " : "  #   also ", o);
			comment(o, t->v[j].path);
			fputs(" (", o);
			comment(o, t->v[j].pkg);
			fputs(")\n", o);
		}
		fputs("  - name: ", o);
		name_from(o, t->v[i].path);
		fputc('-', o);
		for (j = 0; j < 6; j++)
			fprintf(o, "%02x", t->v[i].sha[j]);
		fputs("\n    action: allow\n    sha256: \"", o);
		for (j = 0; j < SG_SHA256_LEN; j++)
			fprintf(o, "%02x", t->v[i].sha[j]);
		fputs("\"\n", o);
		rules++;
	}
	free(done);
	fprintf(stderr, "sysguardctl policy trust: %zu files, %zu rules", t->n, rules);
	if (t->unreadable)
		fprintf(stderr, ", %lu unreadable files left out", t->unreadable);
	fputc('\n', stderr);
}

int sg_cmd_policy_trust(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct option longs[] = { SG_CLI_OPT_HELP, SG_CLI_OPT_OUTPUT, { 0 } };
	struct trust t = { 0 };
	const char *out = NULL;
	char *text = NULL;
	size_t tlen = 0, i, k;
	FILE *o;
	int c, rc;

	if (sg_cli_wants_help(argc, argv, ":ho:", longs))
		return sg_cli_help(&trust_cmd);
	while ((c = sg_cli_next(argc, argv, ":ho:", longs)) != -1) {
		if (c != 'o')
			return sg_cli_bad_option(&trust_cmd, argc, argv, c);
		out = optarg;
	}
	if (optind >= argc)
		return sg_cli_usage_error(&trust_cmd, "which package manager? dpkg");
	if (strcmp(argv[optind], "dpkg"))
		return sg_cli_usage_error(&trust_cmd, "unknown package manager '%s'; dpkg is the one known",
					  argv[optind]);
	if (optind + 1 < argc)
		return sg_cli_usage_error(&trust_cmd, "unexpected argument '%s'", argv[optind + 1]);
	rc = collect(&t, DPKG_INFO);
	if (rc) {
		fprintf(stderr, "sysguardctl policy trust: %s: %s\n", DPKG_INFO, strerror(-rc));
		goto out;
	}
	qsort(t.v, t.n, sizeof(t.v[0]), by_path);
	/* One entry per file (the packages that list it joined), then its hash. */
	for (i = 0, k = 0; i < t.n; i++) {
		int fd;

		if (k && !strcmp(t.v[k - 1].path, t.v[i].path) && !t.v[k - 1].pkg) {
			free(t.v[i].path);
			free(t.v[i].pkg);
			continue;
		}
		if (k && !strcmp(t.v[k - 1].path, t.v[i].path)) {
			size_t l1 = strlen(t.v[k - 1].pkg), l2 = strlen(t.v[i].pkg);
			char *j = realloc(t.v[k - 1].pkg, l1 + l2 + 3);

			if (j) {
				memcpy(j + l1, ", ", 2);
				memcpy(j + l1 + 2, t.v[i].pkg, l2 + 1);
				t.v[k - 1].pkg = j;
			}
			free(t.v[i].path);
			free(t.v[i].pkg);
			continue;
		}
		t.v[k++] = t.v[i];
		fd = open(t.v[k - 1].path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0 || sg_file_sha256(fd, NULL, t.v[k - 1].sha)) {
			t.unreadable++;
			free(t.v[k - 1].pkg);
			t.v[k - 1].pkg = NULL;	/* left out */
		}
		if (fd >= 0)
			close(fd);
	}
	t.n = k;
	o = open_memstream(&text, &tlen);
	rc = o ? 0 : -ENOMEM;
	if (o) {
		write_policy(o, &t);
		rc = fclose(o) ? -ENOMEM : 0;
	}
	if (!rc)
		rc = sg_cli_write_output(out, text, stderr);
out:
	for (i = 0; i < t.n; i++) {
		free(t.v[i].path);
		free(t.v[i].pkg);
	}
	free(t.v);
	free(text);
	return rc ? SG_EXIT_FAILED : SG_EXIT_OK;
}
