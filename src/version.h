/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one version of SysGuard, shared by sysguardd and sysguardctl. The
 * Makefile writes sg_version.h (in the build directory) from `git describe`
 * on a release tag (vX.Y.Z) when there is one, else from the VERSION file.
 */
#ifndef SG_VERSION_H
#define SG_VERSION_H

#include "sg_version.h"

#endif
