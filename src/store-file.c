/*
 * The database's files before SQLite opens them: that a path names a gua
 * database, that the files SQLite keeps beside it are no one else's, the
 * temporary file a new database is built in. No SQLite here.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "store-internal.h"
#include "util.h"

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

int
store_not_gua(char *err, size_t errlen, const char *fmt, ...)
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
	return store_not_gua(err, errlen, "%.60s\xe2\x80\xa6: path too long "
	    "(%zu bytes, absolute): SQLite opens a database by a path of at "
	    "most %d bytes, with the files beside it", path, len,
	    STORE_PATH_MAX);
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
		return store_not_gua(err, errlen, "%s: is a directory, not a "
		    "database file", path);
	if (!S_ISREG(st.st_mode))
		return store_not_gua(err, errlen, "%s: not a regular file",
		    path);
	if (st.st_size == 0)
		return store_not_gua(err, errlen, "%s: empty file, %s", path,
		    STORE_NOT_GUA_HINT);
	n = pread(fd, h, sizeof(h), 0);
	if (n < 0)
		return util_err(err, errlen, "%s: %s", path, strerror(errno));
	if (n < (ssize_t)sizeof(h) || memcmp(h, "SQLite format 3", 16) != 0)
		return store_not_gua(err, errlen, "%s: not a SQLite file, %s",
		    path, STORE_NOT_GUA_HINT);
	if (be32(h + 68) != STORE_APPLICATION_ID)
		return store_not_gua(err, errlen, "%s: a SQLite file, but %s",
		    path, STORE_NOT_GUA_HINT);
	version = be32(h + 60);
	if (version > STORE_SCHEMA_VERSION)
		return store_not_gua(err, errlen, "%s: written by a newer gua "
		    "(schema %u; this gua reads up to %d): upgrade gua", path,
		    version, STORE_SCHEMA_VERSION);
	if (version == 0)
		return store_not_gua(err, errlen, "%s: an unfinished gua "
		    "database (no schema version)", path);
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
			return store_not_gua(err, errlen, "%s: no such file",
			    path);
		return util_err(err, errlen, "%s: %s", path, strerror(errno));
	}
	rc = check_header(fd, path, err, errlen);
	close(fd);
	return rc;
}

/* "file:" URI for path, with every byte SQLite could misread escaped. */
char *
store_path_uri(const char *path, const char *query)
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
#define SIDE_JOURNAL	2
static const char *const sidecars[STORE_SIDECARS] = {
	"-wal", "-shm", "-journal"
};

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
	for (size_t i = 0; i < STORE_SIDECARS; i++) {
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
 * made here goes once the database is open (store_unclaim_journal).
 */
int
store_claim_sidecars(const char *path, mode_t mode,
    int made[STORE_SIDECARS], char *err, size_t errlen)
{
	char side[PATH_MAX + 16];
	int fd;

	for (size_t i = 0; i < STORE_SIDECARS; i++)
		made[i] = 0;
	for (size_t i = 0; i < STORE_SIDECARS; i++) {
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

/* Removes the files store_claim_sidecars created, if SQLite left them. */
void
store_unclaim_sidecars(const char *path, const int made[STORE_SIDECARS])
{
	char side[PATH_MAX + 16];

	for (size_t i = 0; i < STORE_SIDECARS; i++) {
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
void
store_unclaim_journal(const char *path)
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

/*
 * How a reader opens the database whose real path is real (path as the
 * user named it): the query of its "file:" URI, which never makes SQLite
 * create a file beside it.
 */
int
store_ro_query(const char *real, const char *path, const char **query,
    char *err, size_t errlen)
{
	off_t wal;
	int shm;

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
		*query = "mode=ro&immutable=1";
	else
		*query = "mode=ro";
	return 0;
}

/* Files beside a new database at path are not ours: SQLite would
   remove them. */
int
store_no_sidecars(const char *path, char *err, size_t errlen)
{
	for (size_t i = 0; i < STORE_SIDECARS; i++)
		if (sidecar_exists(path, sidecars[i]))
			return util_err(err, errlen, "%s%s: already exists",
			    path, sidecars[i]);
	return 0;
}

/*
 * A temporary file beside path to build a new database in: created here
 * (0640 less the umask, O_EXCL, no link followed) and flock'ed while fd is
 * open, after what crashed writers of path left was swept away. *mode is
 * the file's mode, for the files SQLite makes beside it.
 */
int
store_make_tmp(const char *path, char *tmp, size_t len, mode_t *mode,
    char *err, size_t errlen)
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
void
store_remove_tmp(const char *tmp)
{
	char side[PATH_MAX + 16];

	unlink(tmp);
	for (size_t i = 0; i < STORE_SIDECARS; i++) {
		snprintf(side, sizeof(side), "%s%s", tmp, sidecars[i]);
		unlink(side);
	}
}

/* Whether the file SQLite keeps beside path with suffix holds anything. */
int
store_sidecar_has_data(const char *path, const char *suffix)
{
	char buf[PATH_MAX + 16];
	struct stat st;

	snprintf(buf, sizeof(buf), "%s%s", path, suffix);
	return lstat(buf, &st) == 0 && (!S_ISREG(st.st_mode) || st.st_size > 0);
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
int
store_check_existing(const char *path, struct stat *st, char *err,
    size_t errlen)
{
	int fd, rc;

	if ((rc = store_check_path(path, err, errlen)) != 0)
		return rc;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return store_not_gua(err, errlen, "%s: no such file",
			    path);
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

	return store_check_existing(path, &st, err, errlen);
}
