/*
 * Opening, creating and checking gua databases; the schema; the meta table.
 * The write path is in store-write.c, the read path in store-read.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
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

#define BUSY_TIMEOUT_MS	5000

/*
 * Integer keys everywhere; a GPU and a process identity are stored once.
 * A tick is one row whose gpus blob packs every GPU and its processes
 * (store-pack.c), process memory only when it changed. hours holds the
 * hourly rollups the writer keeps in the tick's transaction, one row an
 * hour, and the range of tick ids in that hour: it is also the index by
 * which raw ticks are found by time.
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
    " UNIQUE(pid, start_ms));"
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
	[STMT_PROC_INSERT] = "INSERT INTO procs(pid, start_ms, known, uid, "
	    "user, comm, cmdline, container, pod, unit, slurm_job) "
	    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[STMT_HOUR_GET] = "SELECT first_tick, last_tick, gpus, procs FROM hours "
	    "WHERE hour_ms = ?1",
	[STMT_HOUR_PUT] = "INSERT OR REPLACE INTO hours(hour_ms, first_tick, "
	    "last_tick, gpus, procs) VALUES(?1, ?2, ?3, ?4, ?5)",
	[STMT_PROC_GET] = "SELECT pid, start_ms, known, uid, user, comm, "
	    "cmdline, container, pod, unit, slurm_job FROM procs WHERE id = ?1",
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

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

#define NOT_GUA_HINT "not a gua database (a gpu-usage-audit 1.0 database " \
	"can be converted with 'gua import')"

/* util_err for a file that is no gua database: STORE_NOT_GUA. */
static int
not_gua(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
not_gua(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return STORE_NOT_GUA;
}

int
store_check_path(const char *path, char *err, size_t errlen)
{
	char cwd[PATH_MAX];
	size_t len = strlen(path);

	/* SQLite opens the absolute path: a relative one is added to the
	   working directory. */
	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
		len += strlen(cwd) + 1;
	if (len <= STORE_PATH_MAX)
		return 0;
	return not_gua(err, errlen, "%.60s\xe2\x80\xa6: path too long (%zu "
	    "bytes, absolute): SQLite opens a database by a path of at most "
	    "%d bytes, with the files beside it", path, len, STORE_PATH_MAX);
}

/* Checks the first 100 bytes of an open file: SQLite, gua's, not newer. */
static int
check_header(int fd, const char *path, char *err, size_t errlen)
{
	unsigned char h[100];
	struct stat st;
	ssize_t n;
	uint32_t version;

	if (fstat(fd, &st) != 0)
		return util_err(err, errlen, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return not_gua(err, errlen, "%s: is a directory, not a "
		    "database file", path);
	if (!S_ISREG(st.st_mode))
		return not_gua(err, errlen, "%s: not a regular file", path);
	if (st.st_size == 0)
		return not_gua(err, errlen, "%s: empty file, %s", path,
		    NOT_GUA_HINT);
	n = pread(fd, h, sizeof(h), 0);
	if (n < 0)
		return util_err(err, errlen, "%s: %s", path, strerror(errno));
	if (n < (ssize_t)sizeof(h) || memcmp(h, "SQLite format 3", 16) != 0)
		return not_gua(err, errlen, "%s: not a SQLite file, %s", path,
		    NOT_GUA_HINT);
	if (be32(h + 68) != STORE_APPLICATION_ID)
		return not_gua(err, errlen, "%s: a SQLite file, but %s", path,
		    NOT_GUA_HINT);
	version = be32(h + 60);
	if (version > STORE_SCHEMA_VERSION)
		return not_gua(err, errlen, "%s: written by a newer gua "
		    "(schema %u; this gua reads up to %d): upgrade gua", path,
		    version, STORE_SCHEMA_VERSION);
	if (version == 0)
		return not_gua(err, errlen, "%s: an unfinished gua database "
		    "(no schema version)", path);
	return 0;
}

int
store_check_file(const char *path, char *err, size_t errlen)
{
	int fd, rc;

	if ((rc = store_check_path(path, err, errlen)) != 0)
		return rc;
	/* O_NONBLOCK: opening a FIFO someone planted must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return not_gua(err, errlen, "%s: no such file", path);
		return util_err(err, errlen, "%s: %s", path, strerror(errno));
	}
	rc = check_header(fd, path, err, errlen);
	close(fd);
	return rc;
}

/* "file:" URI for path, with every byte SQLite could misread escaped. */
static char *
path_uri(const char *path, const char *query)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(path), qlen = strlen(query);
	char *u = malloc(5 + len * 3 + qlen + 2), *p;

	if (u == NULL)
		return NULL;
	p = u;
	memcpy(p, "file:", 5);
	p += 5;
	/* A leading "//" would start an authority; one slash means the same. */
	while (path[0] == '/' && path[1] == '/')
		path++;
	for (; *path; path++) {
		unsigned char c = (unsigned char)*path;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("/._-~", c) != NULL) {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p++ = '?';
	memcpy(p, query, qlen + 1);
	return u;
}

/*
 * The files SQLite may open beside a database: its WAL and the WAL's
 * shared-memory index, and a rollback journal, which it checks for (and
 * would roll back) even before it finds the WAL.
 */
#define SIDECARS	3
#define SIDE_JOURNAL	2
static const char *const sidecars[SIDECARS] = { "-wal", "-shm", "-journal" };

static int
sidecar_exists(const char *path, const char *suffix)
{
	char buf[PATH_MAX + 16];
	struct stat st;

	if ((size_t)snprintf(buf, sizeof(buf), "%s%s", path, suffix) >=
	    sizeof(buf))
		return 1;
	return lstat(buf, &st) == 0;
}

/* The size of a file beside path, -1 when there is none. */
static off_t
sidecar_size(const char *path, const char *suffix)
{
	char buf[PATH_MAX + 16];
	struct stat st;

	if ((size_t)snprintf(buf, sizeof(buf), "%s%s", path, suffix) >=
	    sizeof(buf) || lstat(buf, &st) != 0)
		return -1;
	return st.st_size;
}

/*
 * Whether SQLite reads the file as a WAL database: its header's read
 * version (byte 19) is 2, whatever the write version (byte 18) says.
 */
static int
header_says_wal(const char *path)
{
	unsigned char h[20];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = pread(fd, h, sizeof(h), 0);
	close(fd);
	return n == (ssize_t)sizeof(h) && h[19] == 2;
}

/*
 * Checks what SQLite would open beside a database before a reader opens
 * it. SQLite refuses a symbolic link there but follows a hard link, a
 * reader writes to -shm, and a FIFO would hang it: a -shm planted as a
 * link to another file would be overwritten. So each one present must be
 * a regular file with one link, owned by the database's owner. SQLite
 * names them after the database's real path.
 */
int
store_check_sidecars(const char *path, char *err, size_t errlen)
{
	char real[PATH_MAX], side[PATH_MAX + 16];
	struct stat db, st;

	if (realpath(path, real) == NULL || stat(real, &db) != 0)
		return util_err(err, errlen, "%s: %s", path, strerror(errno));
	for (size_t i = 0; i < SIDECARS; i++) {
		snprintf(side, sizeof(side), "%s%s", real, sidecars[i]);
		if (lstat(side, &st) != 0) {
			if (errno == ENOENT)
				continue;
			return util_err(err, errlen, "%s: %s", side,
			    strerror(errno));
		}
		/* An empty journal is never hot: SQLite reads nothing of it. */
		if (i == SIDE_JOURNAL && S_ISREG(st.st_mode) && st.st_size == 0)
			continue;
		if (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode) ||
		    st.st_nlink != 1 || st.st_uid != db.st_uid)
			return util_err(err, errlen, "%s: %s; refusing to open "
			    "the database beside it", side,
			    S_ISLNK(st.st_mode) ? "is a symbolic link" :
			    !S_ISREG(st.st_mode) ? "not a regular file" :
			    st.st_nlink != 1 ? "has other hard links" :
			    "not owned by the database's owner");
	}
	return 0;
}

/*
 * Makes the files beside a database the writer's own before SQLite
 * opens them: created here (exclusively, no link followed, with the
 * database's mode) when absent, else checked to be this user's regular
 * files with one link. SQLite then never opens a name another user
 * planted. made[i] is set for each one created here; an empty -journal
 * made here goes once the database is open (unclaim_journal).
 */
static int
claim_sidecars(const char *path, mode_t mode, int made[SIDECARS],
    char *err, size_t errlen)
{
	char side[PATH_MAX + 16];
	int fd;

	for (size_t i = 0; i < SIDECARS; i++)
		made[i] = 0;
	for (size_t i = 0; i < SIDECARS; i++) {
		if ((size_t)snprintf(side, sizeof(side), "%s%s", path,
		    sidecars[i]) >= sizeof(side))
			return util_err(err, errlen, "%s: path too long", path);
		fd = util_open_own(side, O_RDONLY, 0600, &made[i], err,
		    errlen);
		if (fd < 0)
			return -1;
		if (made[i])
			(void)fchmod(fd, mode & 0666);
		close(fd);
	}
	return 0;
}

/* Removes the files claim_sidecars created, if SQLite left them. */
static void
unclaim_sidecars(const char *path, const int made[SIDECARS])
{
	char side[PATH_MAX + 16];

	for (size_t i = 0; i < SIDECARS; i++) {
		if (!made[i])
			continue;
		snprintf(side, sizeof(side), "%s%s", path, sidecars[i]);
		unlink(side);
	}
}

/*
 * Once SQLite has the database open in WAL mode it never looks for a
 * journal again: the empty one claimed for the opening can go, and so can
 * one a writer killed while opening left behind.
 */
static void
unclaim_journal(const char *path)
{
	char side[PATH_MAX + 16];
	struct stat st;

	snprintf(side, sizeof(side), "%s%s", path, sidecars[SIDE_JOURNAL]);
	if (lstat(side, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 &&
	    st.st_uid == geteuid())
		unlink(side);
}

/* Whether a -journal beside the file could be hot: present, not empty. */
static int
journal_may_be_hot(const char *path)
{
	char buf[PATH_MAX + 16];
	struct stat st;

	if ((size_t)snprintf(buf, sizeof(buf), "%s-journal", path) >=
	    sizeof(buf))
		return 1;
	if (lstat(buf, &st) != 0)
		return errno != ENOENT;
	return !S_ISREG(st.st_mode) || st.st_size > 0;
}

int
store_sqlite_open_ro(const char *path, sqlite3 **db, char *err,
    size_t errlen)
{
	char real[PATH_MAX];
	const char *query;
	char *uri;
	off_t wal;
	int shm, rc;

	*db = NULL;
	/*
	 * SQLite names the files beside a database after its real path, so
	 * through a symbolic link they are looked for there.
	 */
	if (realpath(path, real) == NULL)
		util_strlcpy(real, path, sizeof(real));
	/*
	 * A read-only connection to a WAL database (header byte 19 is 2),
	 * or to any beside which a -wal lies, creates the -wal and -shm it
	 * lacks, owned by the file's owner when root reads it. So:
	 * - -wal and -shm both there are a writer's: its WAL is joined
	 *   read-only, which creates nothing;
	 * - a -wal with data but no -shm is a stopped writer's leftover
	 *   that only a writer can recover: refused;
	 * - otherwise nobody writes it, and a WAL database (or one beside
	 *   an empty -wal) is read as immutable, unless a journal a crash
	 *   left may be hot (immutable would ignore it and read half a
	 *   transaction);
	 * - anything else (a rollback database, or that journal) is opened
	 *   plainly read-only, which creates nothing and makes the open
	 *   fail rather than read torn pages.
	 */
	wal = sidecar_size(real, "-wal");
	shm = sidecar_size(real, "-shm") >= 0;
	if (wal > 0 && !shm)
		return util_err(err, errlen, "%s: cannot open: a -wal beside "
		    "it without its -shm, the unfinished ticks of a writer "
		    "that stopped; open it once with sqlite3 (or resume it "
		    "with gua daemon --append), which recovers them, then "
		    "try again", path);
	if (!(wal >= 0 && shm) && (wal >= 0 || header_says_wal(real)) &&
	    !journal_may_be_hot(real))
		query = "mode=ro&immutable=1";
	else
		query = "mode=ro";
	if ((uri = path_uri(real, query)) == NULL)
		return util_err(err, errlen, "out of memory");
	rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
	    SQLITE_OPEN_NOMUTEX, NULL);
	free(uri);
	if (rc != SQLITE_OK)
		return util_err(err, errlen, "%s: cannot open: %s", path,
		    store_sqlite_reason(*db));
	sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS);
	return 0;
}

static struct store *
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
		return not_gua(err, errlen, "%s: an unfinished gua database "
		    "(no host name in meta)", s->path);
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
static int
verify_schema(struct store *s, char *err, size_t errlen)
{
	int64_t app = 0, version = 0;

	if (pragma_int(s, "PRAGMA application_id", &app, err, errlen) ||
	    pragma_int(s, "PRAGMA user_version", &version, err, errlen))
		return -1;
	if (app != STORE_APPLICATION_ID)
		return not_gua(err, errlen, "%s: a SQLite file, but %s",
		    s->path, NOT_GUA_HINT);
	if (version > STORE_SCHEMA_VERSION)
		return not_gua(err, errlen, "%s: written by a newer gua "
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
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
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
	int made[SIDECARS], rc = -1;

	if (claim_sidecars(tmp, mode, made, err, errlen) != 0) {
		unclaim_sidecars(tmp, made);
		return -1;
	}
	if ((s = store_new(tmp)) == NULL) {
		unclaim_sidecars(tmp, made);
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
	if (store_exec(s, "PRAGMA journal_mode=MEMORY", err, errlen) ||
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
	unclaim_sidecars(tmp, made);
	return rc;
}

/*
 * A temporary file beside path to build a new database in: created here
 * (0640 less the umask, O_EXCL, no link followed) and flock'ed while fd is
 * open, after what crashed writers of path left was swept away. *mode is
 * the file's mode, for the files SQLite makes beside it.
 */
static int
make_tmp(const char *path, char *tmp, size_t len, mode_t *mode, char *err,
    size_t errlen)
{
	struct stat st;
	mode_t mask;
	int fd;

	if ((fd = store_check_path(path, err, errlen)) != 0)
		return fd;
	if (lstat(path, &st) == 0)
		return util_err(err, errlen, "%s: already exists", path);
	if (outfile_tmp_name(path, tmp, len, err, errlen) != 0)
		return -1;
	outfile_sweep(path);
	mask = umask(0);
	umask(mask);
	*mode = 0640 & ~mask;
	if ((fd = outfile_tmp_create(tmp, 0640, err, errlen)) < 0)
		return -1;
	return fd;
}

/* Removes a temporary database and the files SQLite left beside it. */
static void
remove_tmp(const char *tmp)
{
	char side[PATH_MAX + 16];

	unlink(tmp);
	for (size_t i = 0; i < SIDECARS; i++) {
		snprintf(side, sizeof(side), "%s%s", tmp, sidecars[i]);
		unlink(side);
	}
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
	if ((fd = make_tmp(path, tmp, sizeof(tmp), &mode, err, errlen)) < 0)
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
	remove_tmp(tmp);
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
	if ((fd = make_tmp(path, tmp, sizeof(tmp), &mode, err, errlen)) < 0)
		return fd;
	if (build_new(tmp, meta, mode, err, errlen) != 0 ||
	    store_open_append(out, tmp, err, errlen) != 0) {
		remove_tmp(tmp);
		close(fd);
		return -1;
	}
	if (((*out)->publish_to = strdup(path)) == NULL) {
		store_close(*out);
		*out = NULL;
		remove_tmp(tmp);
		close(fd);
		return util_err(err, errlen, "out of memory");
	}
	(*out)->tmp_fd = fd;
	(*out)->meta = *meta;
	(*out)->meta.schema_version = STORE_SCHEMA_VERSION;
	return 0;
}

/* Whether the file SQLite keeps beside path with suffix holds anything. */
static int
sidecar_has_data(const char *path, const char *suffix)
{
	char buf[PATH_MAX + 16];
	struct stat st;

	snprintf(buf, sizeof(buf), "%s%s", path, suffix);
	return lstat(buf, &st) == 0 && (!S_ISREG(st.st_mode) || st.st_size > 0);
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
	if (sidecar_has_data(tmp, "-wal") ||
	    sidecar_has_data(tmp, "-journal")) {
		util_err(err, errlen, "%s: not all of it reached the file",
		    path);
		goto out;
	}
	unclaim_journal(tmp);
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
		remove_tmp(tmp);
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
	if ((rc = verify_schema(s, err, errlen)) != 0) {
		store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

/*
 * The file a writer may write: this user's own regular file with one
 * link and write permission for its owner (root included), so a link
 * planted by another user, or a file made read-only, is never written.
 */
static int
check_writable(int fd, const char *path, struct stat *st, char *err,
    size_t errlen)
{
	if (fstat(fd, st) != 0)
		return util_err(err, errlen, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st->st_mode))
		return 0;	/* check_header says what it is */
	if (st->st_nlink != 1)
		return util_err(err, errlen, "%s: has other hard links; "
		    "refusing to write it", path);
	if (st->st_uid != geteuid())
		return util_err(err, errlen, "%s: owned by another user; "
		    "refusing to write it", path);
	if (!(st->st_mode & S_IWUSR))
		return util_err(err, errlen, "%s: read-only (mode %04o); "
		    "refusing to write it", path, (unsigned)(st->st_mode &
		    07777));
	return 0;
}

/*
 * Checks, without following a link, that an existing file is a database
 * this writer may write (check_writable) and a gua one; its stat in *st.
 */
static int
check_existing(const char *path, struct stat *st, char *err, size_t errlen)
{
	int fd, rc;

	if ((rc = store_check_path(path, err, errlen)) != 0)
		return rc;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return not_gua(err, errlen, "%s: no such file", path);
		if (errno == ELOOP)
			return util_err(err, errlen, "%s: is a symbolic link; "
			    "refusing to write through it", path);
		return util_err(err, errlen, "%s: %s", path, strerror(errno));
	}
	if ((rc = check_writable(fd, path, st, err, errlen)) == 0)
		rc = check_header(fd, path, err, errlen);
	close(fd);
	return rc;
}

int
store_check_writable(const char *path, char *err, size_t errlen)
{
	struct stat st;

	return check_existing(path, &st, err, errlen);
}

int
store_open_append(struct store **out, const char *path, char *err,
    size_t errlen)
{
	struct store *s;
	struct stat st;
	int made[SIDECARS], rc;

	*out = NULL;
	/* Its descriptor is closed before SQLite opens the file, as in
	   store_create: a close() later would drop SQLite's locks. */
	if ((rc = check_existing(path, &st, err, errlen)) != 0)
		return rc;
	if (claim_sidecars(path, st.st_mode, made, err, errlen) != 0) {
		unclaim_sidecars(path, made);
		return -1;
	}
	s = store_new(path);
	if (s == NULL) {
		unclaim_sidecars(path, made);
		return util_err(err, errlen, "out of memory");
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		store_sqlite_err(s, err, errlen, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	if ((rc = verify_schema(s, err, errlen)) != 0 ||
	    (rc = writer_pragmas(s, err, errlen)) != 0)
		goto fail;
	unclaim_journal(path);
	*out = s;
	return 0;
fail:
	store_close(s);
	unclaim_sidecars(path, made);
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
		remove_tmp(s->path);
		close(s->tmp_fd);
	}
	free(s->publish_to);
	imap_free(&s->proc_prev);
	imap_free(&s->proc_cur);
	imap_free(&s->mem_prev);
	imap_free(&s->mem_cur);
	store_hour_free(&s->hour);
	free(s->gpus);
	free(s->tick_buf.p);
	free(s->hour_gbuf.p);
	free(s->hour_pbuf.p);
	free(s->path);
	free(s);
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

int
store_begin_run(struct store *s, int64_t started_ms, int64_t interval_ms,
    const char *source, const char *driver_version, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	/*
	 * A file of an older schema gets this schema's rows from here on
	 * (its old rows stay as they are, and readable): a gua that could
	 * not read the new ones must refuse it.
	 */
	if (s->meta.schema_version < STORE_SCHEMA_VERSION) {
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
		    STORE_SCHEMA_VERSION);
		if (store_exec(s, sql, err, errlen) != 0)
			return -1;
		s->meta.schema_version = STORE_SCHEMA_VERSION;
	}
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

/* A check of a closed file with SQLite, reading it as immutable. */
static int
quick_check(const char *path, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *uri = path_uri(path, "mode=ro&immutable=1");
	int rc = -1;

	if (uri == NULL)
		return util_err(err, errlen, "out of memory");
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) !=
	    SQLITE_OK) {
		util_err(err, errlen, "%s: checking: %s", path,
		    db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
	    strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0)
		rc = 0;
	else
		util_err(err, errlen, "%s: the copy fails its check: %s", path,
		    sqlite3_column_text(st, 0) ?
		    (const char *)sqlite3_column_text(st, 0) :
		    sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(uri);
	return rc;
}

/*
 * Leaves the undecodable ticks out of a copy being built at tmp: opened
 * without a journal (a failure removes the whole copy), its rollback
 * header already set, so SQLite opens no file beside it.
 */
static int
salvage_copy(const char *tmp, struct store_damage *d, char *err,
    size_t errlen)
{
	struct store *c;
	int rc = -1;

	if ((c = store_new(tmp)) == NULL)
		return util_err(err, errlen, "out of memory");
	if (sqlite3_open_v2(tmp, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		store_sqlite_err(c, err, errlen, "cannot open the copy");
		goto out;
	}
	if (store_exec(c, "PRAGMA journal_mode=OFF", err, errlen) != 0 ||
	    verify_schema(c, err, errlen) != 0 ||
	    store_exec(c, "BEGIN", err, errlen) != 0 ||
	    store_salvage(c, d, err, errlen) != 0 ||
	    store_exec(c, "COMMIT", err, errlen) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		free(d->left);
		memset(d, 0, sizeof(*d));
	}
	store_close(c);
	return rc;
}

int
store_backup(struct store *s, const char *out, struct store_damage *d,
    char *err, size_t errlen)
{
	static const unsigned char legacy[2] = { 1, 1 };
	unsigned char mode[2];
	char tmp[PATH_MAX];
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	mode_t fmode;
	int fd, rc;

	memset(d, 0, sizeof(*d));
	/* Files beside a new OUT are not ours: SQLite would remove them. */
	for (size_t i = 0; i < SIDECARS; i++)
		if (sidecar_exists(out, sidecars[i]))
			return util_err(err, errlen, "%s%s: already exists",
			    out, sidecars[i]);
	if ((fd = make_tmp(out, tmp, sizeof(tmp), &fmode, err, errlen)) < 0)
		return -1;
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		util_err(err, errlen, "%s: cannot open: %s", tmp,
		    dst ? sqlite3_errmsg(dst) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(dst, BUSY_TIMEOUT_MS);
	/*
	 * No journal: the copy is new and removed if anything fails, and
	 * SQLite then opens no file beside it, where a planted link could
	 * make it write elsewhere.
	 */
	if (sqlite3_exec(dst, "PRAGMA journal_mode=OFF", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		util_err(err, errlen, "%s: %s", tmp, sqlite3_errmsg(dst));
		goto fail;
	}
	/*
	 * One step for all pages: the copy is read in one read transaction,
	 * a snapshot of the last commit, while a collector keeps writing its
	 * WAL beside it.
	 */
	b = sqlite3_backup_init(dst, "main", s->db, "main");
	if (b == NULL) {
		util_err(err, errlen, "%s: cannot start the copy: %s", out,
		    sqlite3_errmsg(dst));
		goto fail;
	}
	do {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(50);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		util_err(err, errlen, "%s: copying %s: %s", out, s->path,
		    sqlite3_errstr(rc));
		goto fail;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		dst = NULL;
		util_err(err, errlen, "%s: cannot close the copy", out);
		goto fail;
	}
	dst = NULL;
	/*
	 * The pages came from a WAL database, whose header says so (bytes
	 * 18 and 19 are 2). The copy is one self-contained file: mark it as
	 * a rollback-journal database (1), which is all that PRAGMA
	 * journal_mode=DELETE would change once its WAL, which it never had,
	 * was gone.
	 */
	errno = 0;
	if (pread(fd, mode, 2, 18) != 2 || mode[0] < 1 || mode[0] > 2 ||
	    mode[1] < 1 || mode[1] > 2 || pwrite(fd, legacy, 2, 18) != 2) {
		util_err(err, errlen, "%s: cannot finish the copy: %s", out,
		    errno ? strerror(errno) : "unexpected header");
		goto fail;
	}
	if (salvage_copy(tmp, d, err, errlen) != 0)
		goto fail;
	if (fsync(fd) != 0) {
		util_err(err, errlen, "%s: cannot finish the copy: %s", out,
		    strerror(errno));
		goto fail;
	}
	if (quick_check(tmp, err, errlen) != 0 ||
	    store_check_file(tmp, err, errlen) != 0 ||
	    outfile_publish(tmp, out, err, errlen) != 0)
		goto fail;
	close(fd);
	return 0;
fail:
	if (dst != NULL)
		sqlite3_close(dst);
	free(d->left);
	memset(d, 0, sizeof(*d));
	remove_tmp(tmp);
	close(fd);
	return -1;
}
