// SPDX-License-Identifier: Apache-2.0
/*
 * A shared object whose constructor writes "ran" to $SG_LIB_MARKER: if the
 * file exists, the library's code ran. Built with a tag (-DSG_TAG) so each
 * copy has its own SHA-256.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef SG_TAG
#define SG_TAG "ctor"
#endif

const char sg_lib_tag[] = SG_TAG;

__attribute__((constructor)) static void ctor_marker(void)
{
	const char *m = getenv("SG_LIB_MARKER");
	int fd;

	if (!m)
		return;
	fd = open(m, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, "ran", 3) != 3)
			_exit(3);
		close(fd);
	}
}
