/*
 * Reading gpu-usage-audit 1.0 databases for import. The original writes
 * every tick's rows together with one timestamp text, so its tables are
 * normally stored in time order and can be streamed without sorting; a
 * file whose rows are not in that order is read sorted instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "classify.h"
#include "store-internal.h"
#include "store-legacy.h"
#include "util.h"

struct store_legacy {
	sqlite3		*db;
	char		*path;
	int		 surveyed;	/* store_legacy_survey ran */
	int		 started;	/* the streams have been stepped */
	int		 in_order;	/* rows are stored in time order */
	sqlite3_stmt	*gpu_rows;	/* the two streams of rows */
	sqlite3_stmt	*proc_rows;
	int		 gpu_more;	/* a row waits in gpu_rows */
	int		 proc_more;
};

#define NOT_LEGACY	"not a gpu-usage-audit 1.0 database"

static int
legacy_err(struct store_legacy *l, char *err, size_t errlen, const char *what)
{
	return util_err(err, errlen, "%s: %s: %s", l->path, what,
	    sqlite3_errmsg(l->db));
}

/* util_err, for a file that is no database of the original's. */
static int
not_legacy(char *err, size_t errlen, const char *fmt, const char *path)
{
	util_err(err, errlen, fmt, path);
	return STORE_NOT_GUA;
}

/*
 * The checks that need no SQLite: a regular SQLite file, not gua's own.
 * STORE_NOT_GUA for a file that is no database of the original's (bad
 * usage), -1 for one that cannot be read.
 */
static int
check_file(const char *path, char *err, size_t errlen)
{
	unsigned char h[100];
	struct stat st;
	ssize_t n;
	int fd, rc;

	if ((rc = store_check_path(path, err, errlen)) != 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return not_legacy(err, errlen, "%s: no such file",
			    path);
		return util_err(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		close(fd);
		return util_err(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return not_legacy(err, errlen, "%s: is a directory, not a "
		    "database file", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return not_legacy(err, errlen, "%s: not a regular file", path);
	}
	n = pread(fd, h, sizeof(h), 0);
	close(fd);
	if (n < 0)
		return util_err(err, errlen, "%s: %s", path, strerror(errno));
	if (n < (ssize_t)sizeof(h) || memcmp(h, "SQLite format 3", 16) != 0)
		return not_legacy(err, errlen, "%s: not a SQLite file, "
		    NOT_LEGACY, path);
	if (((uint32_t)h[68] << 24 | (uint32_t)h[69] << 16 |
	    (uint32_t)h[70] << 8 | h[71]) == STORE_APPLICATION_ID)
		return not_legacy(err, errlen, "%s: already a gua database; "
		    "there is nothing to import", path);
	return 0;
}

int
store_legacy_open(struct store_legacy **out, const char *path, char *err,
    size_t errlen)
{
	static const char *const probes[] = {
		"SELECT hostname, driver_version, last_seen FROM host",
		"SELECT rowid, ts, gpu_uuid, util_pct FROM gpu_sample",
		("SELECT rowid, ts, gpu_uuid, pid, mem_used_mb, "
		    "loginuid_user FROM proc_sample"),
	};
	struct store_legacy *l;
	sqlite3_stmt *st;

	int rc;

	*out = NULL;
	if ((rc = check_file(path, err, errlen)) != 0)
		return rc;
	if (store_check_sidecars(path, err, errlen) != 0)
		return -1;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->path = strdup(path)) == NULL) {
		free(l);
		return util_err(err, errlen, "out of memory");
	}
	if (store_sqlite_open_ro(path, &l->db, err, errlen) != 0) {
		store_legacy_close(l);
		return -1;
	}
	/* The original's tables and columns, or a one-line reason. */
	for (size_t i = 0; i < ARRAY_LEN(probes); i++) {
		if (sqlite3_prepare_v2(l->db, probes[i], -1, &st, NULL) !=
		    SQLITE_OK) {
			/* No such table or column: another program's file.
			   Else a database that cannot be read as it is
			   (damaged, a crash's unfinished transaction). */
			rc = sqlite3_errcode(l->db) == SQLITE_ERROR ?
			    STORE_NOT_GUA : -1;
			if (rc == STORE_NOT_GUA)
				util_err(err, errlen, "%s: %s (%s)", path,
				    NOT_LEGACY, sqlite3_errmsg(l->db));
			else
				util_err(err, errlen, "%s: cannot read: %s",
				    path, store_sqlite_reason(l->db));
			store_legacy_close(l);
			return rc;
		}
		sqlite3_finalize(st);
	}
	*out = l;
	return 0;
}

void
store_legacy_close(struct store_legacy *l)
{
	if (l == NULL)
		return;
	sqlite3_finalize(l->gpu_rows);
	sqlite3_finalize(l->proc_rows);
	sqlite3_close(l->db);
	free(l->path);
	free(l);
}

int
store_legacy_host(struct store_legacy *l, char *hostname, size_t hlen,
    char *driver, size_t dlen, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	hostname[0] = '\0';
	driver[0] = '\0';
	if (sqlite3_prepare_v2(l->db, "SELECT hostname, driver_version FROM "
	    "host ORDER BY last_seen DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return legacy_err(l, err, errlen, "reading host");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(st, 0);
		const unsigned char *d = sqlite3_column_text(st, 1);

		util_strlcpy(hostname, h ? (const char *)h : "", hlen);
		util_strlcpy(driver, d ? (const char *)d : "", dlen);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return legacy_err(l, err, errlen, "reading host");
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_uuid(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Adds a UUID to the survey's set unless it is there. */
static int
note_uuid(struct store_legacy *l, struct store_legacy_survey *sv,
    size_t *cap, size_t *last, const char *uuid, char *err, size_t errlen)
{
	/* Rows come GPU after GPU: the one after the last, most often. */
	for (size_t k = 0; k < sv->nuuids; k++) {
		size_t i = (*last + 1 + k) % sv->nuuids;

		if (strcmp(sv->uuids[i], uuid) == 0) {
			*last = i;
			return 0;
		}
	}
	if (strlen(uuid) >= sizeof(sv->uuids[0]))
		return util_err(err, errlen, "%s: a GPU UUID longer than %zu "
		    "bytes", l->path, sizeof(sv->uuids[0]) - 1);
	if (sv->nuuids == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		char (*nu)[96] = realloc(sv->uuids, ncap * sizeof(*nu));

		if (nu == NULL)
			return util_err(err, errlen, "out of memory");
		sv->uuids = nu;
		*cap = ncap;
	}
	*last = sv->nuuids;
	util_strlcpy(sv->uuids[sv->nuuids++], uuid, sizeof(sv->uuids[0]));
	return 0;
}

static const char *
column_str(sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	return v ? (const char *)v : "";
}

/*
 * One table's first pass: its GPUs, whether its rows are in time order,
 * and (for gpu_sample) the distinct tick times.
 */
static int
survey_table(struct store_legacy *l, const char *sql, int want_times,
    struct store_legacy_survey *sv, size_t *uuid_cap, int64_t *rows,
    char *err, size_t errlen)
{
	char prev[64] = "";
	size_t times_cap = 0, last = 0;
	sqlite3_stmt *st;
	int rc, first = 1;

	if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK)
		return legacy_err(l, err, errlen, "reading");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *ts = column_str(st, 0);
		int64_t ms;

		(*rows)++;
		if (note_uuid(l, sv, uuid_cap, &last, column_str(st, 1), err,
		    errlen) != 0)
			goto fail;
		if (!first && strcmp(ts, prev) == 0)
			continue;
		if (!first && strcmp(ts, prev) < 0)
			l->in_order = 0;
		first = 0;
		if (util_strlcpy(prev, ts, sizeof(prev)) >= sizeof(prev) ||
		    util_parse_iso8601(ts, &ms) != 0) {
			util_err(err, errlen, "%s: a row with an unreadable "
			    "time '%.40s'", l->path, ts);
			goto fail;
		}
		if (!want_times)
			continue;
		if (sv->ntimes == times_cap) {
			size_t ncap = times_cap ? times_cap * 2 : 1024;
			int64_t *nt = realloc(sv->times, ncap * sizeof(*nt));

			if (nt == NULL) {
				util_err(err, errlen, "out of memory");
				goto fail;
			}
			sv->times = nt;
			times_cap = ncap;
		}
		sv->times[sv->ntimes++] = ms;
	}
	if (rc != SQLITE_DONE) {
		legacy_err(l, err, errlen, "reading");
		goto fail;
	}
	sqlite3_finalize(st);
	return 0;
fail:
	sqlite3_finalize(st);
	return -1;
}

int
store_legacy_survey(struct store_legacy *l, struct store_legacy_survey *sv,
    char *err, size_t errlen)
{
	size_t uuid_cap = 0, n = 0;
	const char *order;
	char sql[160];

	memset(sv, 0, sizeof(sv[0]));
	l->in_order = 1;
	/* In stored order: an index on (gpu_uuid, ts) covers these columns
	   and SQLite would rather walk it. */
	if (survey_table(l, "SELECT ts, gpu_uuid FROM gpu_sample ORDER BY "
	    "rowid", 1, sv, &uuid_cap, &sv->gpu_rows, err, errlen) != 0 ||
	    survey_table(l, "SELECT ts, gpu_uuid FROM proc_sample ORDER BY "
	    "rowid", 0, sv, &uuid_cap, &sv->proc_rows, err, errlen) != 0) {
		store_legacy_survey_free(sv);
		return -1;
	}
	/* Empty tables leave both arrays NULL, which qsort may not take. */
	if (sv->ntimes > 1)
		qsort(sv->times, sv->ntimes, sizeof(*sv->times), cmp_i64);
	for (size_t i = 0; i < sv->ntimes; i++)
		if (n == 0 || sv->times[n - 1] != sv->times[i])
			sv->times[n++] = sv->times[i];
	sv->ntimes = n;
	if (sv->nuuids > 1)
		qsort(sv->uuids, sv->nuuids, sizeof(*sv->uuids), cmp_uuid);

	/* Rows in time order are streamed as stored; others are sorted. */
	order = l->in_order ? " ORDER BY rowid" : " ORDER BY ts, rowid";
	snprintf(sql, sizeof(sql), "SELECT ts, gpu_uuid, util_pct FROM "
	    "gpu_sample%s", order);
	if (sqlite3_prepare_v2(l->db, sql, -1, &l->gpu_rows, NULL) !=
	    SQLITE_OK)
		goto fail;
	snprintf(sql, sizeof(sql), "SELECT ts, gpu_uuid, pid, mem_used_mb, "
	    "loginuid_user FROM proc_sample%s", order);
	if (sqlite3_prepare_v2(l->db, sql, -1, &l->proc_rows, NULL) !=
	    SQLITE_OK)
		goto fail;
	l->surveyed = 1;
	return 0;
fail:
	legacy_err(l, err, errlen, "reading");
	store_legacy_survey_free(sv);
	return -1;
}

void
store_legacy_survey_free(struct store_legacy_survey *sv)
{
	free(sv->times);
	free(sv->uuids);
	memset(sv, 0, sizeof(*sv));
}

/* Steps a stream: 1 a row, 0 the end, -1 an error. */
static int
step(struct store_legacy *l, sqlite3_stmt *st, char *err, size_t errlen)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return legacy_err(l, err, errlen, "reading");
}

static int
add_gpu(struct store_legacy_tick *t, sqlite3_stmt *st)
{
	struct store_legacy_gpu *g;
	int64_t util = sqlite3_column_int64(st, 2);

	if (t->ngpus == t->gpus_cap) {
		size_t ncap = t->gpus_cap ? t->gpus_cap * 2 : 16;

		if ((g = realloc(t->gpus, ncap * sizeof(*g))) == NULL)
			return -1;
		t->gpus = g;
		t->gpus_cap = ncap;
	}
	g = &t->gpus[t->ngpus++];
	util_strlcpy(g->uuid, column_str(st, 1), sizeof(g->uuid));
	g->util_pct = util < 0 || util > 1000000 ||
	    sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : (int)util;
	return 0;
}

static int
add_proc(struct store_legacy_tick *t, sqlite3_stmt *st)
{
	struct store_legacy_proc *p;
	int64_t pid = sqlite3_column_int64(st, 2);
	int64_t mem = sqlite3_column_int64(st, 3);

	if (t->nprocs == t->procs_cap) {
		size_t ncap = t->procs_cap ? t->procs_cap * 2 : 64;

		if ((p = realloc(t->procs, ncap * sizeof(*p))) == NULL)
			return -1;
		t->procs = p;
		t->procs_cap = ncap;
	}
	p = &t->procs[t->nprocs++];
	util_strlcpy(p->uuid, column_str(st, 1), sizeof(p->uuid));
	p->pid = pid < 0 || pid > UINT32_MAX ? 0 : (uint32_t)pid;
	p->mem_mib = mem < 0 || sqlite3_column_type(st, 3) == SQLITE_NULL ?
	    MIB_UNKNOWN : mem;
	p->user_known = sqlite3_column_type(st, 4) != SQLITE_NULL;
	util_strlcpy(p->user, column_str(st, 4), sizeof(p->user));
	return 0;
}

int
store_legacy_next(struct store_legacy *l, struct store_legacy_tick *t,
    char *err, size_t errlen)
{
	const char *g, *p, *ts;

	if (!l->surveyed)
		return util_err(err, errlen, "%s: not surveyed", l->path);
	if (!l->started) {
		if ((l->gpu_more = step(l, l->gpu_rows, err, errlen)) < 0 ||
		    (l->proc_more = step(l, l->proc_rows, err, errlen)) < 0)
			return -1;
		l->started = 1;
	}
	t->ngpus = 0;
	t->nprocs = 0;
	if (!l->gpu_more && !l->proc_more)
		return 0;
	/* The tick is the earliest timestamp text waiting in either. */
	g = l->gpu_more ? column_str(l->gpu_rows, 0) : NULL;
	p = l->proc_more ? column_str(l->proc_rows, 0) : NULL;
	ts = g == NULL ? p : p == NULL ? g : strcmp(g, p) <= 0 ? g : p;
	if (util_strlcpy(t->ts, ts, sizeof(t->ts)) >= sizeof(t->ts) ||
	    util_parse_iso8601(t->ts, &t->ts_ms) != 0)
		return util_err(err, errlen, "%s: a row with an unreadable "
		    "time '%.40s'", l->path, ts);
	while (l->gpu_more &&
	    strcmp(column_str(l->gpu_rows, 0), t->ts) == 0) {
		if (add_gpu(t, l->gpu_rows) != 0)
			return util_err(err, errlen, "out of memory");
		if ((l->gpu_more = step(l, l->gpu_rows, err, errlen)) < 0)
			return -1;
	}
	while (l->proc_more &&
	    strcmp(column_str(l->proc_rows, 0), t->ts) == 0) {
		if (add_proc(t, l->proc_rows) != 0)
			return util_err(err, errlen, "out of memory");
		if ((l->proc_more = step(l, l->proc_rows, err, errlen)) < 0)
			return -1;
	}
	return 1;
}

void
store_legacy_tick_free(struct store_legacy_tick *t)
{
	free(t->gpus);
	free(t->procs);
	memset(t, 0, sizeof(*t));
}
