/* SPDX-License-Identifier: Apache-2.0 */
/* The kernel's s_dev is major << 20 | minor; user space's st_dev is glibc's makedev(). */
#ifndef SG_KDEV_H
#define SG_KDEV_H

#include <stdint.h>
#include <sys/sysmacros.h>

static inline uint32_t sg_kdev_from_st(uint64_t st_dev)
{
	return (uint32_t)(major(st_dev) << 20 | minor(st_dev));
}

static inline uint64_t sg_st_from_kdev(uint32_t kdev)
{
	return makedev(kdev >> 20, kdev & 0xfffff);
}

#endif
