/*
 * procs-sql DB SQL: runs SQL against the identities of DB's processes as
 * one plain table, procs(id, pid, start_ms, known, uid, user, comm,
 * cmdline, container, pod, unit, slurm_job, pod_namespace, pod_name,
 * container_name), and prints its rows as sqlite3 does (fields joined
 * by '|', NULL empty). When SQL changed the table, DB's identities are
 * written again from it, packed as gua packs them: the CLI tests read
 * and plant identities (hostile names, say) through it, since schema 7
 * keeps them packed (proc-pack.c). A test helper, never installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "fixture-procs.h"
#include "proc-pack.h"
#include "util.h"

#define COLUMNS	"id, pid, start_ms, known, uid, user, comm, cmdline, " \
		"container, pod, unit, slurm_job, pod_namespace, pod_name, " \
		"container_name"

static void
die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "procs-sql: %s: %s\n", what, db != NULL ?
	    sqlite3_errmsg(db) : "failed");
	exit(1);
}

static void
exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(db, sql);
}

/* The file's blocks, decoded into main.procs. */
static void
load_blocks(sqlite3 *db)
{
	struct proc_block *b = calloc(1, sizeof(*b));
	sqlite3_stmt *st, *ins;

	if (b == NULL)
		die(NULL, "out of memory");
	if (sqlite3_prepare_v2(db, "SELECT first_id, count, body FROM "
	    "f.proc_blocks ORDER BY first_id", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO main.procs(" COLUMNS ") "
	    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
	    "?14, ?15)", -1, &ins, NULL) != SQLITE_OK)
		die(db, "reading the blocks");
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (proc_block_decode(b, sqlite3_column_int64(st, 0),
		    sqlite3_column_int64(st, 1), sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2)) != 0)
			die(NULL, "a damaged block");
		if (fixture_insert_block(ins, b) != 0)
			die(db, "loading a process");
	}
	sqlite3_finalize(st);
	sqlite3_finalize(ins);
	proc_block_free(b);
	free(b);
}

/* Writes one packed block of the file. */
static void
put_block(sqlite3 *db, sqlite3_stmt *put, int64_t first,
    const struct proc_packer *p)
{
	sqlite3_bind_int64(put, 1, first);
	sqlite3_bind_int64(put, 2, (int64_t)p->n);
	sqlite3_bind_int64(put, 3, p->start_min);
	sqlite3_bind_int64(put, 4, p->start_max);
	sqlite3_bind_blob(put, 5, p->body.p, (int)p->body.len,
	    SQLITE_STATIC);
	if (sqlite3_step(put) != SQLITE_DONE)
		die(db, "writing a block");
	sqlite3_reset(put);
}

/* The file's identities again from main.procs: runs of keys in blocks. */
static void
store_blocks(sqlite3 *db)
{
	struct proc_packer *p = calloc(1, sizeof(*p));
	sqlite3_stmt *st, *put;
	int64_t first = 0, next = 0;

	if (p == NULL)
		die(NULL, "out of memory");
	exec(db, "BEGIN; DELETE FROM f.proc_blocks; DELETE FROM f.procs");
	if (sqlite3_prepare_v2(db, "SELECT " COLUMNS " FROM main.procs "
	    "ORDER BY id", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO f.proc_blocks(first_id, "
	    "count, start_min, start_max, body) VALUES(?1, ?2, ?3, ?4, ?5)",
	    -1, &put, NULL) != SQLITE_OK)
		die(db, "writing the blocks");
	proc_packer_reset(p);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct identity who;
		int64_t id = sqlite3_column_int64(st, 0);

		if (p->n > 0 && (id != next || proc_packer_full(p))) {
			put_block(db, put, first, p);
			proc_packer_reset(p);
		}
		if (p->n == 0)
			first = id;
		memset(&who, 0, sizeof(who));
		who.known = sqlite3_column_int(st, 3);
		who.uid = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 :
		    sqlite3_column_int64(st, 4);
		for (int f = 0; f < PROC_FIELDS; f++) {
			const unsigned char *v = sqlite3_column_text(st,
			    5 + f);
			size_t size;
			char *dst = proc_identity_field_buf(&who,
			    (enum proc_field)f, &size);

			util_strlcpy(dst, v != NULL ? (const char *)v : "",
			    size);
		}
		if (proc_packer_add(p, (uint32_t)sqlite3_column_int64(st, 1),
		    sqlite3_column_int64(st, 2), &who) != 0)
			die(NULL, "out of memory");
		next = id + 1;
	}
	if (p->n > 0)
		put_block(db, put, first, p);
	sqlite3_finalize(st);
	sqlite3_finalize(put);
	/* A process of unknown start is found by its PID: its last key. */
	exec(db, "DELETE FROM f.proc_unknown_start; INSERT INTO "
	    "f.proc_unknown_start(pid, id) SELECT pid, max(id) FROM main.procs "
	    "WHERE start_ms = 0 GROUP BY pid; COMMIT");
	proc_packer_free(p);
	free(p);
}

int
main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	const char *sql, *tail;
	int before;

	if (argc != 3) {
		fprintf(stderr, "usage: procs-sql DB SQL\n");
		return 2;
	}
	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		die(db, "opening");
	st = NULL;
	{
		char *attach = sqlite3_mprintf("ATTACH %Q AS f", argv[1]);

		exec(db, attach);
		sqlite3_free(attach);
	}
	exec(db, "CREATE TABLE main.procs(id INTEGER PRIMARY KEY, pid, "
	    "start_ms, known, uid, user, comm, cmdline, container, pod, unit, "
	    "slurm_job, pod_namespace, pod_name, container_name);"
	    "INSERT INTO main.procs SELECT " COLUMNS " FROM f.procs");
	load_blocks(db);
	before = sqlite3_total_changes(db);
	for (sql = argv[2]; *sql != '\0'; sql = tail) {
		int rc;

		if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK)
			die(db, "the query");
		if (st == NULL)
			break;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				const unsigned char *v = sqlite3_column_text(st,
				    c);

				printf("%s%s", c > 0 ? "|" : "",
				    v != NULL ? (const char *)v : "");
			}
			putchar('\n');
		}
		if (rc != SQLITE_DONE)
			die(db, "the query");
		sqlite3_finalize(st);
	}
	if (sqlite3_total_changes(db) != before)
		store_blocks(db);
	if (sqlite3_close(db) != SQLITE_OK)
		die(db, "closing");
	return 0;
}
