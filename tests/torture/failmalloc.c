/*
 * LD_PRELOAD shim for the failing-malloc run (test-malloc.sh): counts the
 * allocations a process makes through malloc, calloc, realloc and
 * posix_memalign, and makes the Nth one fail (FAILMALLOC_N=N; 0 fails
 * none). At exit it writes the count to FAILMALLOC_COUNT if set, so a
 * first run tells how many allocations there are to fail one by one.
 * Only allocations made by gua and the libraries it loads count: glibc's
 * own (its name service, for one) assert or crash when theirs fail, which
 * no program can handle.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_memalign)(void **, size_t, size_t);
static unsigned long count, fail_at;
static int ready;
/* dlsym may allocate before the real calloc is known: a static arena. */
static char boot[4096];
static size_t boot_used;

static void
report(void)
{
	const char *path = getenv("FAILMALLOC_COUNT");
	char buf[32];
	int fd, n;

	if (path == NULL || (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC,
	    0644)) < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%lu\n", count);
	if (write(fd, buf, (size_t)n) < 0)
		n = 0;
	close(fd);
}

static void
init(void)
{
	const char *n;

	if (ready)
		return;
	ready = -1;
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT,
	    "posix_memalign");
	if ((n = getenv("FAILMALLOC_N")) != NULL)
		fail_at = strtoul(n, NULL, 10);
	atexit(report);
	ready = 1;
}

/* Whether the caller at ra is glibc itself. */
static int
from_libc(void *ra)
{
	Dl_info info;

	return dladdr(ra, &info) != 0 && info.dli_fname != NULL &&
	    strstr(info.dli_fname, "/libc.so") != NULL;
}

/* Whether this allocation, asked for from ra, is the one to fail. */
static int
failing(void *ra)
{
	if (ready != 1 || from_libc(ra))
		return 0;
	count++;
	if (count == fail_at) {
		errno = ENOMEM;
		return 1;
	}
	return 0;
}

void *
malloc(size_t size)
{
	init();
	if (ready != 1) {
		void *p = boot + boot_used;

		boot_used += (size + 15) & ~(size_t)15;
		return boot_used <= sizeof(boot) ? p : NULL;
	}
	return failing(__builtin_return_address(0)) ? NULL : real_malloc(size);
}

void *
calloc(size_t n, size_t size)
{
	init();
	if (ready != 1) {
		void *p = malloc(n * size);

		if (p != NULL)
			memset(p, 0, n * size);
		return p;
	}
	return failing(__builtin_return_address(0)) ? NULL :
	    real_calloc(n, size);
}

void *
realloc(void *p, size_t size)
{
	init();
	return failing(__builtin_return_address(0)) ? NULL :
	    real_realloc(p, size);
}

int
posix_memalign(void **p, size_t align, size_t size)
{
	init();
	return failing(__builtin_return_address(0)) ? ENOMEM :
	    real_memalign(p, align, size);
}

void
free(void *p)
{
	static void (*real_free)(void *);

	if ((char *)p >= boot && (char *)p < boot + sizeof(boot))
		return;
	if (real_free == NULL)
		real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	real_free(p);
}
