/* SPDX-License-Identifier: Apache-2.0 */
/* Whether a file a container runs came with its image (see drift.c). */
#ifndef SG_DRIFT_H
#define SG_DRIFT_H

#include <sys/stat.h>

#include "sense/workload.h"

/*
 * wl: the container (its layers); file: what fstat() says of the exec'd
 * file. 0: the image's file; 1: drift, with
 * *why set ("not_in_image", "modified_after_start", or why it could not
 * be checked); -errno on allocation failure.
 */
int sg_drift_check(const struct sg_workload_info *wl, const char *container_path,
		   const struct stat *file, const char **why);

#endif
