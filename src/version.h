/* SPDX-License-Identifier: Apache-2.0 */
/* The release, from the VERSION file (the Makefile passes it); one place for every binary. */
#ifndef SG_VERSION_H
#define SG_VERSION_H

#ifndef SG_VERSION
#define SG_VERSION "0.9.0"
#endif

#endif
