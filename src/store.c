/*
 * Opening and creating gua databases; the schema; the meta table; SQLite's
 * errors in words. The checks of the files themselves are in
 * store-file.c, the write path in store-write.c, the read path in
 * store-read.c, the copy in store-backup.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "outfile.h"
#include "store-internal.h"
#include "util.h"
#include "version.h"

/*
 * Integer keys everywhere; a GPU and a process identity are stored once.
 * A tick is one row whose gpus blob packs every GPU and its processes
 * (store-pack.c), process memory only when it changed. hours holds the
 * hourly rollups the writer keeps in the tick's transaction, one row an
 * hour, and the range of tick ids in that hour: it is also the index by
 * which raw ticks are found by time. hour_edges keeps, for the hours whose
 * raw ticks were compacted away (store-compact.c), each GPU's first and
 * last tick.
 */
static const char schema_sql[] =
    "CREATE TABLE meta("
    " key TEXT PRIMARY KEY NOT NULL,"
    " value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE runs("
    " id INTEGER PRIMARY KEY,"
    " started_ms INTEGER NOT NULL,"
    " interval_ms INTEGER NOT NULL,"
    " source TEXT NOT NULL,"
    " driver_version TEXT NOT NULL,"
    " gua_version TEXT NOT NULL,"
    " hostname TEXT NOT NULL);"
    "CREATE TABLE gpus("
    " id INTEGER PRIMARY KEY,"
    " uuid TEXT NOT NULL UNIQUE,"
    " idx INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " memory_total_mib INTEGER,"
    " parent_uuid TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE procs("
    " id INTEGER PRIMARY KEY,"
    " pid INTEGER NOT NULL,"
    " start_ms INTEGER NOT NULL,"
    " known INTEGER NOT NULL,"
    " uid INTEGER,"
    " user TEXT NOT NULL,"
    " comm TEXT NOT NULL,"
    " cmdline TEXT NOT NULL,"
    " container TEXT NOT NULL,"
    " pod TEXT NOT NULL,"
    " unit TEXT NOT NULL,"
    " slurm_job TEXT NOT NULL,"
    " pod_namespace TEXT NOT NULL DEFAULT '',"
    " pod_name TEXT NOT NULL DEFAULT '',"
    " container_name TEXT NOT NULL DEFAULT '',"
    " UNIQUE(pid, start_ms));"
    STORE_PROC_BLOCKS_SQL
    "CREATE TABLE hour_edges("
    " hour_ms INTEGER PRIMARY KEY,"
    " gpus BLOB NOT NULL);"
    "CREATE TABLE ticks("
    " id INTEGER PRIMARY KEY,"
    " ts_ms INTEGER NOT NULL,"
    " span_ms INTEGER NOT NULL,"
    " run INTEGER NOT NULL,"
    " gpus BLOB NOT NULL);"
    "CREATE TABLE hours("
    " hour_ms INTEGER PRIMARY KEY,"
    " first_tick INTEGER NOT NULL,"
    " last_tick INTEGER NOT NULL,"
    " gpus BLOB NOT NULL,"
    " procs BLOB NOT NULL);";

const char *
store_sqlite_reason(sqlite3 *db)
{
	static char buf[512];
	int code, sys;

	if (db == NULL)
		return "out of memory";
	code = sqlite3_extended_errcode(db);
	/* A read-only connection cannot roll back what a crash left. */
	if (code == SQLITE_READONLY_ROLLBACK)
		return "an unfinished transaction left by a crash (a hot "
		    "journal beside the file): open it once with sqlite3, "
		    "which rolls it back, then try again";
	/*
	 * "disk I/O error" or "database or disk is full" say nothing of
	 * why: the system's error does (No space left on device, File too
	 * large, Permission denied).
	 */
	sys = sqlite3_system_errno(db);
	/* SQLite says FULL for a write that failed with ENOSPC (or came
	   back short), and keeps no errno for it; gua sets no page limit. */
	if ((code & 0xff) == SQLITE_FULL && sys == 0)
		sys = ENOSPC;
	if (sys != 0 && ((code & 0xff) == SQLITE_IOERR ||
	    (code & 0xff) == SQLITE_FULL || (code & 0xff) == SQLITE_CANTOPEN)) {
		snprintf(buf, sizeof(buf), "%s: %s", sqlite3_errmsg(db),
		    strerror(sys));
		return buf;
	}
	return sqlite3_errmsg(db);
}

/*
 * Why a write to the database at path failed, when SQLite kept no errno
 * for it (a -wal write failing does not reach sqlite3_system_errno): no
 * space left where it is, or a file past the file size limit. NULL when
 * neither.
 */
static const char *
io_cause(const char *path)
{
	char dir[PATH_MAX], side[PATH_MAX + 8], *slash;
	struct statvfs vfs;
	struct rlimit rl;
	struct stat st;

	util_strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL)
		util_strlcpy(dir, ".", sizeof(dir));
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (statvfs(dir, &vfs) == 0 && vfs.f_bavail == 0)
		return strerror(ENOSPC);
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		snprintf(side, sizeof(side), "%s-wal", path);
		/* Within a page of the limit: the next write crosses it. */
		if ((stat(path, &st) == 0 && (rlim_t)st.st_size + 65536 >=
		    rl.rlim_cur) || (stat(side, &st) == 0 &&
		    (rlim_t)st.st_size + 65536 >= rl.rlim_cur))
			return "File too large (the file size limit)";
	}
	return NULL;
}

/* store_sqlite_reason, with the cause of an I/O error SQLite did not
   keep. */
static const char *
store_reason(struct store *s)
{
	static char buf[600];
	const char *r = store_sqlite_reason(s->db), *cause;
	int code = s->db ? sqlite3_extended_errcode(s->db) & 0xff : 0;

	if (code != SQLITE_IOERR || sqlite3_system_errno(s->db) != 0 ||
	    (cause = io_cause(s->path)) == NULL)
		return r;
	snprintf(buf, sizeof(buf), "%s: %s", r, cause);
	return buf;
}

int
store_sqlite_err(struct store *s, char *err, size_t errlen, const char *what)
{
	return util_err(err, errlen, "%s: %s: %s", s->path, what,
	    store_reason(s));
}

static const char *const stmt_sql[STMT_COUNT] = {
	[STMT_TICK_INSERT] = "INSERT INTO ticks(id, ts_ms, span_ms, run, gpus) "
	    "VALUES(?1, ?2, ?3, ?4, ?5)",
	[STMT_GPU_FIND] = "SELECT id, idx, name, memory_total_mib FROM gpus "
	    "WHERE uuid = ?1",
	[STMT_GPU_INSERT] = "INSERT INTO gpus(uuid, idx, name, "
	    "memory_total_mib, parent_uuid) VALUES(?1, ?2, ?3, ?4, ?5)",
	[STMT_GPU_UPDATE] = "UPDATE gpus SET idx = ?2, name = ?3, "
	    "memory_total_mib = ?4 WHERE id = ?1",
	[STMT_PROC_FIND] = "SELECT id FROM procs WHERE pid = ?1 AND "
	    "start_ms = ?2",
	[STMT_BLOCK_PUT] = "INSERT OR REPLACE INTO proc_blocks(first_id, "
	    "count, start_min, start_max, body) VALUES(?1, ?2, ?3, ?4, ?5)",
	[STMT_BLOCK_AT] = "SELECT first_id, count, body FROM proc_blocks "
	    "WHERE first_id <= ?1 ORDER BY first_id DESC LIMIT 1",
	[STMT_BLOCK_BY_START] = "SELECT first_id, count, body FROM "
	    "proc_blocks WHERE start_max >= ?1 AND start_min <= ?1",
	[STMT_UNKNOWN_START_FIND] = "SELECT id FROM proc_unknown_start "
	    "WHERE pid = ?1",
	[STMT_UNKNOWN_START_PUT] = "INSERT OR REPLACE INTO "
	    "proc_unknown_start(pid, id) VALUES(?1, ?2)",
	[STMT_HOUR_GET] = "SELECT first_tick, last_tick, gpus, procs FROM hours "
	    "WHERE hour_ms = ?1",
	[STMT_HOUR_PUT] = "INSERT OR REPLACE INTO hours(hour_ms, first_tick, "
	    "last_tick, gpus, procs) VALUES(?1, ?2, ?3, ?4, ?5)",
	[STMT_PROC_GET] = "SELECT pid, start_ms, known, uid, user, comm, "
	    "cmdline, container, pod, unit, slurm_job, " STORE_PROC_NAMES
	    " FROM procs WHERE id = ?1",
	[STMT_PROC_GET_OLD] = "SELECT pid, start_ms, known, uid, user, comm, "
	    "cmdline, container, pod, unit, slurm_job, " STORE_PROC_NAMES_OLD
	    " FROM procs WHERE id = ?1",
	[STMT_PROC_RANGE] = "SELECT id, pid, start_ms, known, uid, user, comm, "
	    "cmdline, container, pod, unit, slurm_job, " STORE_PROC_NAMES
	    " FROM procs WHERE id >= ?1 AND id <= ?2 ORDER BY id",
	[STMT_PROC_RANGE_OLD] = "SELECT id, pid, start_ms, known, uid, user, "
	    "comm, cmdline, container, pod, unit, slurm_job, "
	    STORE_PROC_NAMES_OLD " FROM procs WHERE id >= ?1 AND id <= ?2 "
	    "ORDER BY id",
	[STMT_KEYS_RANGE] = "SELECT id, pid, user, comm, container, pod, unit, "
	    "slurm_job, pod_namespace, pod_name FROM procs WHERE id >= ?1 AND "
	    "id <= ?2 ORDER BY id",
	[STMT_KEYS_RANGE_OLD] = "SELECT id, pid, user, comm, container, pod, "
	    "unit, slurm_job, '', '' FROM procs WHERE id >= ?1 AND id <= ?2 "
	    "ORDER BY id",
};

sqlite3_stmt *
store_stmt(struct store *s, int which, char *err, size_t errlen)
{
	if (s->stmt[which] == NULL &&
	    sqlite3_prepare_v3(s->db, stmt_sql[which], -1,
	    SQLITE_PREPARE_PERSISTENT, &s->stmt[which], NULL) != SQLITE_OK) {
		store_sqlite_err(s, err, errlen, "preparing a statement");
		return NULL;
	}
	sqlite3_reset(s->stmt[which]);
	sqlite3_clear_bindings(s->stmt[which]);
	return s->stmt[which];
}

int
store_exec(struct store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		util_err(err, errlen, "%s: %s", s->path, store_reason(s));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
store_sqlite_open_ro(const char *path, sqlite3 **db, char *err,
    size_t errlen)
{
	char real[PATH_MAX];
	const char *query;
	char *uri;
	int rc;

	*db = NULL;
	/*
	 * SQLite names the files beside a database after its real path, so
	 * through a symbolic link they are looked for there.
	 */
	if (realpath(path, real) == NULL)
		util_strlcpy(real, path, sizeof(real));
	if (store_ro_query(real, path, &query, err, errlen) != 0)
		return -1;
	if ((uri = store_path_uri(real, query)) == NULL)
		return util_err(err, errlen, "out of memory");
	rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
	    SQLITE_OPEN_NOMUTEX, NULL);
	free(uri);
	if (rc != SQLITE_OK)
		return util_err(err, errlen, "%s: cannot open: %s", path,
		    store_sqlite_reason(*db));
	sqlite3_busy_timeout(*db, STORE_BUSY_TIMEOUT_MS);
	return 0;
}

struct store *
store_new(const char *path)
{
	struct store *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->path = strdup(path);
	if (s->path == NULL) {
		free(s);
		return NULL;
	}
	s->hour.hour_ms = STORE_NO_HOUR;
	s->tmp_fd = -1;
	return s;
}

static int
meta_put(struct store *s, const char *key, const char *value, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(key, value)"
	    " VALUES(?1, ?2)", -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "writing meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "writing meta");
	return 0;
}

static int
meta_put_int(struct store *s, const char *key, int64_t v, char *err,
    size_t errlen)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return meta_put(s, key, buf, err, errlen);
}

static int
meta_write(struct store *s, char *err, size_t errlen)
{
	const struct store_meta *m = &s->meta;

	if (meta_put(s, "hostname", m->hostname, err, errlen) ||
	    meta_put(s, "driver_version", m->driver_version, err, errlen) ||
	    meta_put(s, "source", m->source, err, errlen) ||
	    meta_put(s, "gua_version", m->gua_version, err, errlen) ||
	    meta_put_int(s, "interval_ms", m->interval_ms, err, errlen) ||
	    meta_put_int(s, "created_ms", m->created_ms, err, errlen) ||
	    meta_put_int(s, "rollup_active_util", m->rollup.active_util, err,
	    errlen) ||
	    meta_put_int(s, "rollup_held_mib", m->rollup.held_mib, err, errlen))
		return -1;
	return 0;
}

static int
meta_read(struct store *s, char *err, size_t errlen)
{
	struct store_meta *m = &s->meta;
	sqlite3_stmt *st;
	int rc, seen = 0;

	memset(m, 0, sizeof(*m));
	classify_defaults(&m->rollup);
	if (sqlite3_prepare_v2(s->db, "SELECT key, value FROM meta", -1, &st,
	    NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading meta");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);

		if (k == NULL || v == NULL)
			continue;
		if (strcmp(k, "hostname") == 0) {
			util_strlcpy(m->hostname, v, sizeof(m->hostname));
			seen = 1;
		} else if (strcmp(k, "driver_version") == 0)
			util_strlcpy(m->driver_version, v,
			    sizeof(m->driver_version));
		else if (strcmp(k, "source") == 0)
			util_strlcpy(m->source, v, sizeof(m->source));
		else if (strcmp(k, "gua_version") == 0)
			util_strlcpy(m->gua_version, v, sizeof(m->gua_version));
		else if (strcmp(k, "interval_ms") == 0)
			m->interval_ms = sqlite3_column_int64(st, 1);
		else if (strcmp(k, "created_ms") == 0)
			m->created_ms = sqlite3_column_int64(st, 1);
		else if (strcmp(k, "rollup_active_util") == 0)
			m->rollup.active_util = sqlite3_column_int(st, 1);
		else if (strcmp(k, "rollup_held_mib") == 0)
			m->rollup.held_mib = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "reading meta");
	if (!seen)
		return store_not_gua(err, errlen, "%s: an unfinished gua "
		    "database (no host name in meta)", s->path);
	return 0;
}

static int
pragma_int(struct store *s, const char *sql, int64_t *out, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading the schema");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_sqlite_err(s, err, errlen, "reading the schema");
	return 0;
}

/* After SQLite opened the file: the same checks as the header, for real. */
int
store_verify_schema(struct store *s, char *err, size_t errlen)
{
	int64_t app = 0, version = 0;

	if (pragma_int(s, "PRAGMA application_id", &app, err, errlen) ||
	    pragma_int(s, "PRAGMA user_version", &version, err, errlen))
		return -1;
	if (app != STORE_APPLICATION_ID)
		return store_not_gua(err, errlen, "%s: a SQLite file, but %s",
		    s->path, STORE_NOT_GUA_HINT);
	if (version > STORE_SCHEMA_VERSION)
		return store_not_gua(err, errlen, "%s: written by a newer gua "
		    "(schema %lld; this gua reads up to %d): upgrade gua",
		    s->path, (long long)version, STORE_SCHEMA_VERSION);
	if (meta_read(s, err, errlen) != 0)
		return -1;
	s->meta.schema_version = (int)version;	/* meta_read clears it */
	return 0;
}

/*
 * Pragmas of a writer: WAL so reports never block it, one fsync a commit.
 * A tick touches a handful of pages (the last ticks page, its hour, the
 * process keys), so a small page cache keeps a collector that runs for
 * months at a few MB without slowing it.
 */
static int
writer_pragmas(struct store *s, char *err, size_t errlen)
{
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	if (store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    " PRAGMA foreign_keys=OFF; PRAGMA cache_size=-256;", err,
	    errlen) != 0)
		return -1;
	s->writable = 1;
	return 0;
}

void
store_set_busy_timeout(struct store *s, int ms)
{
	sqlite3_busy_timeout(s->db, ms);
}

/*
 * Writes the schema, meta and marks into a new file at tmp, and leaves it
 * in WAL mode and checkpointed, closed. Nobody knows tmp yet, so it needs
 * no journal file: a failure just removes it.
 */
static int
build_new(const char *tmp, const struct store_meta *meta, mode_t mode,
    char *err, size_t errlen)
{
	struct store *s;
	char sql[128];
	int made[STORE_SIDECARS], rc = -1;

	if (store_claim_sidecars(tmp, mode, made, err, errlen) != 0) {
		store_unclaim_sidecars(tmp, made);
		return -1;
	}
	if ((s = store_new(tmp)) == NULL) {
		store_unclaim_sidecars(tmp, made);
		return util_err(err, errlen, "out of memory");
	}
	if (sqlite3_open_v2(tmp, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		store_sqlite_err(s, err, errlen, "cannot open");
		goto out;
	}
	s->meta = *meta;
	/*
	 * The schema goes in before WAL is turned on, so the application id
	 * and version are in the main file's header: readers can then
	 * recognise the file without opening it.
	 */
	snprintf(sql, sizeof(sql), "PRAGMA application_id=%d; "
	    "PRAGMA user_version=%d;", STORE_APPLICATION_ID,
	    STORE_SCHEMA_VERSION);
	/*
	 * Incremental vacuum can only be chosen before the first table: it
	 * lets compaction give freed pages back a few at a time. Pages of
	 * 8 KiB waste less at the end of each than 4 KiB do with rows of
	 * the hours' size (a year of 8 GPUs kept 30 days raw: 20.0 MB, not
	 * 20.4 MB); neither can change once the file is in WAL mode.
	 */
	if (store_exec(s, "PRAGMA page_size=8192", err, errlen) ||
	    store_exec(s, "PRAGMA auto_vacuum=INCREMENTAL", err, errlen) ||
	    store_exec(s, "PRAGMA journal_mode=MEMORY", err, errlen) ||
	    store_exec(s, "BEGIN", err, errlen) ||
	    store_exec(s, schema_sql, err, errlen) ||
	    meta_write(s, err, errlen) ||
	    store_exec(s, sql, err, errlen) ||
	    store_exec(s, "COMMIT", err, errlen) ||
	    store_exec(s, "PRAGMA journal_mode=WAL", err, errlen))
		goto out;
	rc = 0;
out:
	store_close(s);
	store_unclaim_sidecars(tmp, made);
	return rc;
}

/*
 * A new database appears whole or not at all: it is built under a
 * temporary name beside path and then given its name, so a crash or a
 * kill -9 while creating never leaves an unfinished database that
 * --append would refuse.
 */
int
store_create(struct store **out, const char *path,
    const struct store_meta *meta, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	mode_t mode;
	int fd;

	*out = NULL;
	if ((fd = store_make_tmp(path, tmp, sizeof(tmp), &mode, err,
	    errlen)) < 0)
		return fd;
	/*
	 * Its descriptor is closed only after SQLite closed the file: a
	 * close() drops every fcntl lock this process holds on it, SQLite's
	 * too, and a writer without its shared lock lets the next reader
	 * delete its WAL.
	 */
	if (build_new(tmp, meta, mode, err, errlen) != 0)
		goto fail;
	if (fsync(fd) != 0) {
		util_err(err, errlen, "%s: cannot create: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (outfile_publish(tmp, path, err, errlen) != 0)
		goto fail;
	close(fd);
	if (store_open_append(out, path, err, errlen) != 0) {
		unlink(path);
		return -1;
	}
	(*out)->meta = *meta;
	(*out)->meta.schema_version = STORE_SCHEMA_VERSION;
	return 0;
fail:
	store_remove_tmp(tmp);
	close(fd);
	return -1;
}

int
store_create_hidden(struct store **out, const char *path,
    const struct store_meta *meta, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	mode_t mode;
	int fd;

	*out = NULL;
	if ((fd = store_make_tmp(path, tmp, sizeof(tmp), &mode, err,
	    errlen)) < 0)
		return fd;
	if (build_new(tmp, meta, mode, err, errlen) != 0 ||
	    store_open_append(out, tmp, err, errlen) != 0) {
		store_remove_tmp(tmp);
		close(fd);
		return -1;
	}
	if (((*out)->publish_to = strdup(path)) == NULL) {
		store_close(*out);
		*out = NULL;
		store_remove_tmp(tmp);
		close(fd);
		return util_err(err, errlen, "out of memory");
	}
	(*out)->tmp_fd = fd;
	(*out)->meta = *meta;
	(*out)->meta.schema_version = STORE_SCHEMA_VERSION;
	return 0;
}

int
store_publish(struct store *s, char *err, size_t errlen)
{
	char *tmp = s->path, *path = s->publish_to;
	int fd = s->tmp_fd, rc = -1;

	s->path = s->publish_to = NULL;
	s->tmp_fd = -1;
	/*
	 * SQLite's last connection checkpoints the WAL into the file and
	 * removes it; a WAL still there would hold ticks the renamed file
	 * lacks.
	 */
	for (int i = 0; i < STMT_COUNT; i++) {
		sqlite3_finalize(s->stmt[i]);
		s->stmt[i] = NULL;
	}
	if (sqlite3_close(s->db) != SQLITE_OK) {
		util_err(err, errlen, "%s: cannot close: %s", path,
		    sqlite3_errmsg(s->db));
		goto out;
	}
	s->db = NULL;
	if (store_sidecar_has_data(tmp, "-wal") ||
	    store_sidecar_has_data(tmp, "-journal")) {
		util_err(err, errlen, "%s: not all of it reached the file",
		    path);
		goto out;
	}
	store_unclaim_journal(tmp);
	if (fsync(fd) != 0) {
		util_err(err, errlen, "%s: cannot write: %s", path,
		    strerror(errno));
		goto out;
	}
	if (store_check_file(tmp, err, errlen) != 0 ||
	    outfile_publish(tmp, path, err, errlen) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		store_remove_tmp(tmp);
	close(fd);
	free(tmp);
	free(path);
	store_close(s);
	return rc;
}

int
store_open_read(struct store **out, const char *path, char *err,
    size_t errlen)
{
	struct store *s;
	int rc;

	*out = NULL;
	if ((rc = store_check_file(path, err, errlen)) != 0)
		return rc;
	if (store_check_sidecars(path, err, errlen) != 0)
		return -1;
	s = store_new(path);
	if (s == NULL)
		return util_err(err, errlen, "out of memory");
	if (store_sqlite_open_ro(path, &s->db, err, errlen) != 0) {
		store_close(s);
		return -1;
	}
	if ((rc = store_verify_schema(s, err, errlen)) != 0) {
		store_close(s);
		return rc;
	}
	/* A reader goes through the file about once: SQLite's default
	   2 MB of page cache would mostly be fresh memory to fault in (a
	   report over year8's 365 days: 1900 page faults, 1450 with this). */
	if (store_exec(s, "PRAGMA cache_size=-256", err, errlen) != 0) {
		store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

int
store_open_append(struct store **out, const char *path, char *err,
    size_t errlen)
{
	struct store *s;
	struct stat st;
	int made[STORE_SIDECARS], rc;

	*out = NULL;
	/* Its descriptor is closed before SQLite opens the file, as in
	   store_create: a close() later would drop SQLite's locks. */
	if ((rc = store_check_existing(path, &st, err, errlen)) != 0)
		return rc;
	if (store_claim_sidecars(path, st.st_mode, made, err, errlen) != 0) {
		store_unclaim_sidecars(path, made);
		return -1;
	}
	s = store_new(path);
	if (s == NULL) {
		store_unclaim_sidecars(path, made);
		return util_err(err, errlen, "out of memory");
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		store_sqlite_err(s, err, errlen, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	if ((rc = store_verify_schema(s, err, errlen)) != 0 ||
	    (rc = writer_pragmas(s, err, errlen)) != 0)
		goto fail;
	store_unclaim_journal(path);
	*out = s;
	return 0;
fail:
	store_close(s);
	store_unclaim_sidecars(path, made);
	return rc != 0 ? rc : -1;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	/* A database never published is abandoned with what is beside it,
	   and only then is the descriptor whose lock kept it closed. */
	if (s->tmp_fd >= 0) {
		store_remove_tmp(s->path);
		close(s->tmp_fd);
	}
	free(s->publish_to);
	imap_free(&s->proc_prev);
	imap_free(&s->proc_cur);
	imap_free(&s->mem_prev);
	imap_free(&s->mem_cur);
	store_hour_free(&s->hour);
	store_procs_free(s);
	free(s->gpus);
	free(s->tick_buf.p);
	free(s->hour_gbuf.p);
	free(s->hour_pbuf.p);
	free(s->path);
	free(s);
}

int
store_read_begin(struct store *s, char *err, size_t errlen)
{
	/* Inside the caller's own transaction, that one is the view. */
	if (!sqlite3_get_autocommit(s->db))
		return 0;
	if (store_exec(s, "BEGIN", err, errlen) != 0)
		return -1;
	s->read_txn = 1;
	return 0;
}

void
store_read_end(struct store *s)
{
	if (s->read_txn && !sqlite3_get_autocommit(s->db))
		store_exec(s, "COMMIT", NULL, 0);
	s->read_txn = 0;
}

int
store_checkpoint(struct store *s, char *err, size_t errlen)
{
	int rc = sqlite3_wal_checkpoint_v2(s->db, "main",
	    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);

	if (rc != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "checkpoint");
	return 0;
}

const struct store_meta *
store_meta(const struct store *s)
{
	return &s->meta;
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

int64_t
store_ticks_written(const struct store *s)
{
	return s->ticks_written;
}

/*
 * A file of an older schema gets this schema's rows from here on (its old
 * rows stay as they are, and readable): a gua that could not read the new
 * ones must refuse it. in_txn: the caller's transaction holds it, else
 * one of its own does. Each schema's step: 3 adds the pod's names to
 * procs; 5 (energy) and 6 (hours rows in format 3) need nothing but the
 * version; 7 adds proc_blocks, where new processes go from then on, and
 * proc_unknown_start.
 */
static int
upgrade(struct store *s, int in_txn, char *err, size_t errlen)
{
	char sql[1024];

	if (s->meta.schema_version >= STORE_SCHEMA_VERSION)
		return 0;
	/* The columns and the version in one transaction: a file never
	   says 3 without them, nor has them twice. Schema 5 adds no
	   column: its rows' marks (store-pack.c) tell old from new. */
	snprintf(sql, sizeof(sql), "%s%s%sPRAGMA user_version=%d;%s",
	    in_txn ? "" : "BEGIN IMMEDIATE;",
	    s->meta.schema_version < STORE_SCHEMA_POD_NAMES ?
	    "ALTER TABLE procs ADD COLUMN pod_namespace TEXT NOT NULL "
	    "DEFAULT '';ALTER TABLE procs ADD COLUMN pod_name TEXT NOT "
	    "NULL DEFAULT '';ALTER TABLE procs ADD COLUMN container_name "
	    "TEXT NOT NULL DEFAULT '';" : "",
	    s->meta.schema_version < STORE_SCHEMA_PROC_BLOCKS ?
	    STORE_PROC_BLOCKS_SQL : "", STORE_SCHEMA_VERSION,
	    in_txn ? "" : "COMMIT;");
	if (store_exec(s, sql, err, errlen) != 0) {
		char ignore[8];

		if (!in_txn)
			store_exec(s, "ROLLBACK", ignore, sizeof(ignore));
		return -1;
	}
	s->meta.schema_version = STORE_SCHEMA_VERSION;
	return 0;
}

int
store_upgrade(struct store *s, char *err, size_t errlen)
{
	return upgrade(s, 0, err, errlen);
}

int
store_upgrade_in_txn(struct store *s, char *err, size_t errlen)
{
	return upgrade(s, 1, err, errlen);
}

int
store_begin_run(struct store *s, int64_t started_ms, int64_t interval_ms,
    const char *source, const char *driver_version, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (store_upgrade(s, err, errlen) != 0)
		return -1;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO runs(started_ms, "
	    "interval_ms, source, driver_version, gua_version, hostname) "
	    "VALUES(?1, ?2, ?3, ?4, ?5, ?6)", -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "recording the run");
	sqlite3_bind_int64(st, 1, started_ms);
	sqlite3_bind_int64(st, 2, interval_ms);
	sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, driver_version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, GUA_VERSION, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, s->meta.hostname, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "recording the run");
	s->run_id = sqlite3_last_insert_rowid(s->db);
	s->meta.interval_ms = interval_ms;
	util_strlcpy(s->meta.driver_version, driver_version,
	    sizeof(s->meta.driver_version));
	util_strlcpy(s->meta.source, source, sizeof(s->meta.source));
	if (meta_put_int(s, "interval_ms", interval_ms, err, errlen) ||
	    meta_put(s, "driver_version", driver_version, err, errlen) ||
	    meta_put(s, "source", source, err, errlen))
		return -1;
	return 0;
}
