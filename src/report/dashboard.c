// SPDX-License-Identifier: Apache-2.0
#include "report/dashboard.h"

#include <errno.h>
#include <string.h>

#ifndef SG_API_NO_MHD
/*
 * Each file is copied into .rodata by the assembler (.incbin, path relative
 * to the repository root, where make runs), between a start and an end
 * symbol. The Makefile lists the files as prerequisites of this object.
 */
#define SG_EMBED(sym, file)							\
	__asm__(".pushsection .rodata\n"					\
		".balign 16\n"							\
		".hidden " #sym "\n"						\
		".globl " #sym "\n"						\
		#sym ":\n"							\
		".incbin \"" file "\"\n"					\
		".hidden " #sym "_end\n"					\
		".globl " #sym "_end\n"						\
		#sym "_end:\n"							\
		".byte 0\n"							\
		".popsection\n");						\
	extern const unsigned char sym[], sym##_end[]

SG_EMBED(sg_web_index_html, "src/report/dashboard/index.html");
SG_EMBED(sg_web_app_js, "src/report/dashboard/app.js");
SG_EMBED(sg_web_shield_js, "src/report/dashboard/shield.js");
SG_EMBED(sg_web_denies_js, "src/report/dashboard/denies.js");
SG_EMBED(sg_web_app_css, "src/report/dashboard/app.css");
SG_EMBED(sg_web_favicon_svg, "src/report/dashboard/favicon.svg");
SG_EMBED(sg_web_chart_js, "src/report/dashboard/vendor/chart.umd.min.js");

#define JS "text/javascript; charset=utf-8"

static const struct embedded {
	const char *url;
	const char *type;
	const unsigned char *start, *end;
} files[] = {
	{ SG_DASHBOARD_PREFIX, "text/html; charset=utf-8", sg_web_index_html, sg_web_index_html_end },
	{ SG_DASHBOARD_PREFIX "app.js", JS, sg_web_app_js, sg_web_app_js_end },
	{ SG_DASHBOARD_PREFIX "shield.js", JS, sg_web_shield_js, sg_web_shield_js_end },
	{ SG_DASHBOARD_PREFIX "denies.js", JS, sg_web_denies_js, sg_web_denies_js_end },
	{ SG_DASHBOARD_PREFIX "app.css", "text/css; charset=utf-8", sg_web_app_css, sg_web_app_css_end },
	{ SG_DASHBOARD_PREFIX "favicon.svg", "image/svg+xml", sg_web_favicon_svg, sg_web_favicon_svg_end },
	{ SG_DASHBOARD_PREFIX "chart.umd.min.js", JS, sg_web_chart_js, sg_web_chart_js_end },
};
#define N_FILES (sizeof(files) / sizeof(files[0]))

int sg_dashboard_asset(const char *url, struct sg_asset *out)
{
	size_t i;

	if (!url)
		return -ENOENT;
	for (i = 0; i < N_FILES; i++) {
		if (strcmp(url, files[i].url))
			continue;
		out->type = files[i].type;
		out->data = files[i].start;
		out->len = (size_t)(files[i].end - files[i].start);
		return 0;
	}
	return -ENOENT;
}

size_t sg_dashboard_count(void)
{
	return N_FILES;
}

const char *sg_dashboard_url(size_t i)
{
	return i < N_FILES ? files[i].url : NULL;
}
#else
/* Static builds have no API server, so nothing to serve (and 200 KiB less). */
int sg_dashboard_asset(const char *url, struct sg_asset *out)
{
	return -ENOENT;
}

size_t sg_dashboard_count(void)
{
	return 0;
}

const char *sg_dashboard_url(size_t i)
{
	return NULL;
}
#endif
