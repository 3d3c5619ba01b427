/*
 * store_backup: a consistent copy of an open database, checked, with the
 * ticks that cannot be decoded left out (store-salvage.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outfile.h"
#include "store-internal.h"
#include "util.h"

/* A check of a closed file with SQLite, reading it as immutable. */
static int
quick_check(const char *path, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *uri = store_path_uri(path, "mode=ro&immutable=1");
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
	    store_verify_schema(c, err, errlen) != 0 ||
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
	if (store_no_sidecars(out, err, errlen) != 0)
		return -1;
	if ((fd = store_make_tmp(out, tmp, sizeof(tmp), &fmode, err,
	    errlen)) < 0)
		return -1;
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		util_err(err, errlen, "%s: cannot open: %s", tmp,
		    dst ? sqlite3_errmsg(dst) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(dst, STORE_BUSY_TIMEOUT_MS);
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
	store_remove_tmp(tmp);
	close(fd);
	return -1;
}
