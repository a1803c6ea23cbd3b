// SPDX-License-Identifier: Apache-2.0
/*
 * Page-fault loop: map 256 anonymous pages, touch each, unmap, for SECS
 * seconds; prints ns per user page fault. The hold gate runs on every user
 * page fault of the host while attached, so this is where its cost shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define PAGES 256
#define PAGE 4096

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0, t0 = now();
	long faults = 0;

	while (now() - t0 < secs) {
		char *p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int i;

		if (p == MAP_FAILED)
			return 1;
		for (i = 0; i < PAGES; i++)
			p[i * PAGE] = 1;
		faults += PAGES;
		munmap(p, PAGES * PAGE);
	}
	printf("%.1f\n", (now() - t0) * 1e9 / faults);
	return 0;
}
