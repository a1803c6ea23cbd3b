/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Read-only web dashboard (OPS-3): the page, its script and style and the
 * vendored Chart.js, embedded into the binary at build time from
 * src/report/dashboard/ (no file system access at run time, so no path to
 * traverse and nothing to deploy beside the daemon). The API server serves
 * them without a token: they hold no data. Every byte of data the page shows
 * comes from the token-protected endpoints, fetched with the token the
 * operator gives the page (docs/api.md, "Dashboard").
 */
#ifndef SG_DASHBOARD_H
#define SG_DASHBOARD_H

#include <stddef.h>

#define SG_DASHBOARD_PREFIX "/dashboard/"

/*
 * Sent with every API answer. The page loads scripts, styles and images only
 * from the daemon, runs no inline script, talks only to the daemon and may
 * not be framed.
 */
#define SG_DASHBOARD_CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
	"img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; " \
	"frame-ancestors 'none'"

struct sg_asset {
	const char *type;		/* Content-Type */
	const unsigned char *data;	/* embedded for the program's life; data[len] is '\0' */
	size_t len;
};

/* 0 and *out filled when url (a path, no query) names an embedded file exactly; -ENOENT otherwise. */
int sg_dashboard_asset(const char *url, struct sg_asset *out);

/* Number of embedded files and the URL of the i-th (for tests and listings); NULL past the end. */
size_t sg_dashboard_count(void);
const char *sg_dashboard_url(size_t i);

#endif
