/*
 * gua-bench-run [-r FILE] RUNS COMMAND [ARG...]: runs a command RUNS times,
 * its output thrown away, and prints the medians of its wall time (ms),
 * its peak resident memory (KiB) and its CPU time, user + system (ms).
 * -r removes FILE (and its -wal, -shm) before each run, for commands that
 * create it. Fails when any run fails. /usr/bin/time would do, but only to
 * 10 ms.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
remove_db(const char *path)
{
	char side[4096];

	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

int
main(int argc, char **argv)
{
	double *wall, *rss, *cpu;
	const char *scratch = NULL;
	int runs;

	if (argc > 2 && strcmp(argv[1], "-r") == 0) {
		scratch = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 3 || (runs = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: gua-bench-run [-r FILE] RUNS COMMAND "
		    "[ARG...]\n");
		return 2;
	}
	wall = calloc((size_t)runs, sizeof(double));
	rss = calloc((size_t)runs, sizeof(double));
	cpu = calloc((size_t)runs, sizeof(double));
	if (wall == NULL || rss == NULL || cpu == NULL)
		return 1;
	for (int i = 0; i < runs; i++) {
		struct rusage ru;
		double t0;
		int status;
		pid_t pid;

		if (scratch != NULL)
			remove_db(scratch);
		t0 = now_ms();
		pid = fork();

		if (pid < 0) {
			perror("gua-bench-run: fork");
			return 1;
		}
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, 1);
			dup2(fd, 2);
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		if (wait4(pid, &status, 0, &ru) < 0) {
			perror("gua-bench-run: wait4");
			return 1;
		}
		wall[i] = now_ms() - t0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "gua-bench-run: %s failed (status %d)\n",
			    argv[2], status);
			return 1;
		}
		rss[i] = (double)ru.ru_maxrss;
		cpu[i] = (double)ru.ru_utime.tv_sec * 1e3 +
		    (double)ru.ru_utime.tv_usec / 1e3 +
		    (double)ru.ru_stime.tv_sec * 1e3 +
		    (double)ru.ru_stime.tv_usec / 1e3;
	}
	if (scratch != NULL)
		remove_db(scratch);
	printf("%.1f %.0f %.1f\n", median(wall, runs), median(rss, runs),
	    median(cpu, runs));
	return 0;
}
