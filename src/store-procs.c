/*
 * The identities of processes, many to a row (schema 7). A writer keeps
 * its newest block open in memory and writes it whole again when it
 * grew, so a key is never more than a block away from its neighbours and
 * a reader going in key order reads each row once. A process seen before
 * is found by its start time (proc_blocks_start): a new one, started
 * after every stored process, costs one probe of that index; one whose
 * start is unknown (0) could be in any block, and is found by its PID
 * (proc_unknown_start). The procs rows of a file from before schema 7
 * stay where they are (store-read.c reads them); every new key is above
 * theirs.
 */
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"
#include "util.h"

void
store_procs_forget(struct store *s)
{
	s->open_first = 0;
	s->open_dirty = 0;
	s->read_valid[0] = s->read_valid[1] = 0;
	s->blocks_from = 0;
}

void
store_procs_free(struct store *s)
{
	if (s->open_block != NULL)
		proc_packer_free(s->open_block);
	free(s->open_block);
	for (int w = 0; w < 2; w++) {
		if (s->read_block[w] != NULL)
			proc_block_free(s->read_block[w]);
		free(s->read_block[w]);
		s->read_block[w] = NULL;
	}
	s->open_block = NULL;
}

/* Whether the file has proc_blocks. */
static int
has_blocks(const struct store *s)
{
	return s->meta.schema_version >= STORE_SCHEMA_PROC_BLOCKS;
}

static int
damaged_block(struct store *s, int64_t first, int64_t count, char *err,
    size_t errlen)
{
	return util_err(err, errlen, "%s: the identities of processes %lld "
	    "to %lld are damaged", s->path, (long long)first,
	    (long long)(first + count - 1));
}

/* Decodes the row st is on (first_id, count, body) into the read block:
   whole, or only the fields a report groups by. 0, 1 for a damaged row,
   -1; err set but for 0. */
static int
load_row(struct store *s, sqlite3_stmt *st, int whole, char *err,
    size_t errlen)
{
	int64_t first = sqlite3_column_int64(st, 0);
	int64_t count = sqlite3_column_int64(st, 1);
	const void *body = sqlite3_column_blob(st, 2);
	int rc;

	s->read_valid[whole] = 0;
	if (s->read_block[whole] == NULL && (s->read_block[whole] =
	    calloc(1, sizeof(*s->read_block[whole]))) == NULL)
		return util_err(err, errlen, "out of memory");
	rc = (whole ? proc_block_decode : proc_block_decode_keys)(
	    s->read_block[whole], first, count, body != NULL ? body : "",
	    (size_t)sqlite3_column_bytes(st, 2));
	if (rc == -2)
		return util_err(err, errlen, "out of memory");
	if (rc != 0) {
		damaged_block(s, first, count, err, errlen);
		return 1;
	}
	s->read_valid[whole] = 1;
	return 0;
}

/* The read block (0 keys, 1 whole) that holds id, or NULL. */
static const struct proc_block *
read_block_of(const struct store *s, int64_t id, int w)
{
	const struct proc_block *b = s->read_block[w];

	return s->read_valid[w] && id >= b->first_id &&
	    id - b->first_id < (int64_t)b->n ? b : NULL;
}

/* A read block that holds id with what is asked, or NULL. */
static const struct proc_block *
in_read_block(const struct store *s, int64_t id, int whole)
{
	const struct proc_block *b = read_block_of(s, id, 1);

	return b != NULL || whole ? b : read_block_of(s, id, 0);
}

int
store_proc_block(struct store *s, int64_t id, int whole,
    const struct proc_block **b, size_t *i, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if ((*b = in_read_block(s, id, whole)) == NULL) {
		if (!has_blocks(s))
			return 1;
		if ((st = store_stmt(s, STMT_BLOCK_AT, err, errlen)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && load_row(s, st, whole, err,
		    errlen) != 0) {
			sqlite3_reset(st);
			return -1;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return store_sqlite_err(s, err, errlen,
			    "reading processes");
		if (rc == SQLITE_DONE || (*b = in_read_block(s, id,
		    whole)) == NULL)
			return 1;
	}
	*i = (size_t)(id - (*b)->first_id);
	return 0;
}

int
store_proc_blocks_from(struct store *s, int64_t *first, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	*first = INT64_MAX;
	if (!has_blocks(s))
		return 0;
	/* Once there is a block there is a first one: blocks stay. */
	if (s->blocks_from != 0) {
		*first = s->blocks_from;
		return 0;
	}
	if (sqlite3_prepare_v2(s->db, "SELECT min(first_id) FROM proc_blocks",
	    -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading processes");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*first = s->blocks_from = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_sqlite_err(s, err, errlen, "reading processes");
	return 0;
}

/* One integer a query returns, 0 for none or NULL. */
static int
query_int(struct store *s, const char *sql, int64_t *v, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	*v = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(s, err, errlen, "reading processes");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "reading processes");
	return 0;
}

int
store_procs_flush(struct store *s, char *err, size_t errlen)
{
	struct proc_packer *p = s->open_block;
	sqlite3_stmt *st;

	if (!s->open_dirty || p->n == 0)
		return 0;
	if ((st = store_stmt(s, STMT_BLOCK_PUT, err, errlen)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, s->open_first);
	sqlite3_bind_int64(st, 2, (int64_t)p->n);
	sqlite3_bind_int64(st, 3, p->start_min);
	sqlite3_bind_int64(st, 4, p->start_max);
	sqlite3_bind_blob(st, 5, p->body.p, (int)p->body.len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_reset(st);
		return store_sqlite_err(s, err, errlen, "adding processes");
	}
	sqlite3_reset(st);
	s->open_dirty = 0;
	return 0;
}

/* PROC_BLOCK_MAX in SQL: a damaged count reaches no further. */
#define PROC_BLOCK_MAX_SQL	"512"
_Static_assert(PROC_BLOCK_MAX == 512, "PROC_BLOCK_MAX_SQL says 512");

/* Opens a new block after every key of the file (a damaged block's
   count taken as the most a block holds). */
static int
open_new(struct store *s, char *err, size_t errlen)
{
	int64_t last_row = 0, last_block = 0;

	if (store_procs_flush(s, err, errlen) != 0)
		return -1;
	if (s->open_block == NULL &&
	    (s->open_block = calloc(1, sizeof(*s->open_block))) == NULL)
		return util_err(err, errlen, "out of memory");
	if (query_int(s, "SELECT max(id) FROM procs", &last_row, err,
	    errlen) != 0 || query_int(s, "SELECT first_id + (CASE WHEN "
	    "count BETWEEN 1 AND " PROC_BLOCK_MAX_SQL " THEN count ELSE "
	    PROC_BLOCK_MAX_SQL " END) - 1 FROM proc_blocks ORDER BY first_id "
	    "DESC LIMIT 1", &last_block, err, errlen) != 0)
		return -1;
	proc_packer_reset(s->open_block);
	s->open_first = (last_row > last_block ? last_row : last_block) + 1;
	return 0;
}

/* The key of (pid, start) in the stored blocks that may hold it, or 0. */
static int
find_stored(struct store *s, uint32_t pid, int64_t start_ms, int64_t *id,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	*id = 0;
	if ((st = store_stmt(s, STMT_BLOCK_BY_START, err, errlen)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, start_ms);
	while (*id == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const struct proc_block *b;
		int64_t first = sqlite3_column_int64(st, 0);
		int lrc;

		/* The open block is looked at in memory. */
		if (s->open_first != 0 && first == s->open_first)
			continue;
		/* The block read last is not decoded again: a restarted
		   writer looks up each running process in the same few. */
		if (s->read_valid[0] && s->read_block[0]->first_id == first &&
		    (int64_t)s->read_block[0]->n ==
		    sqlite3_column_int64(st, 1))
			lrc = 0;
		else
			lrc = load_row(s, st, 0, err, errlen);
		/* A damaged block is passed over: a process it held is
		   added again, rather than no tick written while it runs. */
		if (lrc > 0)
			continue;
		if (lrc < 0) {
			sqlite3_reset(st);
			return -1;
		}
		b = s->read_block[0];
		for (size_t i = 0; i < b->n; i++)
			if (b->e[i].pid == pid && b->e[i].start_ms == start_ms)
				*id = b->first_id + (int64_t)i;
	}
	sqlite3_reset(st);
	if (*id == 0 && rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "finding a process");
	return 0;
}

/* The key of a process whose start is unknown, by its PID, or 0. */
static int
find_unknown_start(struct store *s, uint32_t pid, int64_t *id, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	*id = 0;
	if ((st = store_stmt(s, STMT_UNKNOWN_START_FIND, err, errlen)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, pid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "finding a process");
	return 0;
}

static int
put_unknown_start(struct store *s, uint32_t pid, int64_t id, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = store_stmt(s, STMT_UNKNOWN_START_PUT, err, errlen)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "adding a process");
	return 0;
}

int
store_proc_key(struct store *s, uint32_t pid, int64_t start_ms,
    const struct identity *who, int64_t *id, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	long k;
	int rc;

	if (s->open_first != 0 && (k = proc_packer_find(s->open_block, pid,
	    start_ms)) >= 0) {
		*id = s->open_first + k;
		return 0;
	}
	/* A procs row of the file before it had blocks. */
	if ((st = store_stmt(s, STMT_PROC_FIND, err, errlen)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_int64(st, 2, start_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, err, errlen, "finding a process");
	/* A start of 0 is unknown: such a process could be in any block,
	   and is found by its PID alone. */
	if ((start_ms == 0 ? find_unknown_start(s, pid, id, err, errlen) :
	    find_stored(s, pid, start_ms, id, err, errlen)) != 0)
		return -1;
	if (*id != 0)
		return 0;
	/* New: into the open block, a new one when it is full. */
	if ((s->open_first == 0 || proc_packer_full(s->open_block)) &&
	    open_new(s, err, errlen) != 0)
		return -1;
	if (proc_packer_add(s->open_block, pid, start_ms, who) != 0)
		return util_err(err, errlen, "out of memory");
	s->open_dirty = 1;
	*id = s->open_first + (int64_t)s->open_block->n - 1;
	return start_ms == 0 ? put_unknown_start(s, pid, *id, err, errlen) : 0;
}
