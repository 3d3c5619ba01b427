/*
 * Helpers for tests that need a real database: a private directory, a
 * store, and ticks built by hand.
 */
#ifndef GUA_FIXTURE_H
#define GUA_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"
#include "store.h"
#include "tick.h"
#include "util.h"
#include "version.h"

static char fixture_dir[256];

/* A fresh private directory for this test's files; removed at exit. */
static void
fixture_cleanup(void)
{
	char cmd[300];

	if (fixture_dir[0] != '\0' && getenv("KEEP_TEST_FILES") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixture_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", fixture_dir);
	}
}

static const char *
fixture_path(const char *name)
{
	static char path[512];

	if (fixture_dir[0] == '\0') {
		const char *base = getenv("TMPDIR");

		snprintf(fixture_dir, sizeof(fixture_dir), "%s/gua-test-XXXXXX",
		    base && *base ? base : "/tmp");
		if (mkdtemp(fixture_dir) == NULL) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(fixture_cleanup);
	}
	snprintf(path, sizeof(path), "%s/%s", fixture_dir, name);
	return path;
}

static struct store *
fixture_create(const char *name, int64_t interval_ms)
{
	struct store_meta m;
	struct store *s;
	char err[512];

	memset(&m, 0, sizeof(m));
	util_strlcpy(m.hostname, "testhost", sizeof(m.hostname));
	util_strlcpy(m.source, "test", sizeof(m.source));
	util_strlcpy(m.gua_version, GUA_VERSION, sizeof(m.gua_version));
	m.interval_ms = interval_ms;
	classify_defaults(&m.rollup);
	if (store_create(&s, fixture_path(name), &m, err, sizeof(err)) != 0 ||
	    store_begin_run(s, 0, interval_ms, "test", "999.99", err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "fixture: %s\n", err);
		exit(1);
	}
	return s;
}

static struct tick_gpu *
fixture_gpu(struct tick *t, int index, int util_pct)
{
	struct tick_gpu *g = tick_add_gpu(t);

	g->index = index;
	snprintf(g->uuid, sizeof(g->uuid), "GPU-test-%d", index);
	snprintf(g->name, sizeof(g->name), "Test GPU");
	g->mem_total_mib = 81920;
	g->util_pm = util_pct < 0 ? UTIL_UNKNOWN : util_pct * 10;
	g->util_src = UTIL_SRC_INSTANT;
	return g;
}

static struct tick_proc *
fixture_proc(struct tick_gpu *g, uint32_t pid, int64_t start_ms,
    const char *user, int64_t mib, int util_pct)
{
	struct tick_proc *p = tick_add_proc(g);

	p->pid = pid;
	p->start_ms = start_ms;
	p->mem_mib = mib;
	p->util_pm = util_pct < 0 ? UTIL_UNKNOWN : util_pct * 10;
	if (user != NULL) {
		p->id.known = 1;
		util_strlcpy(p->id.user, user, sizeof(p->id.user));
		snprintf(p->id.comm, sizeof(p->id.comm), "cmd-%u", pid);
	}
	return p;
}

static void
fixture_write(struct store *s, struct tick *t, int64_t ts, int64_t span)
{
	char err[512];

	t->ts_ms = ts;
	t->span_ms = span;
	if (store_write_tick(s, t, err, sizeof(err)) != 0) {
		fprintf(stderr, "fixture: %s\n", err);
		exit(1);
	}
	tick_reset(t);
}

#endif
