/*
 * For tests that make a file of an older schema out of a new one: the
 * identities of proc_blocks moved back into procs rows, as a file from
 * before schema 7 holds them. tests/unit/procs-sql.c loads them the same
 * way.
 */
#ifndef GUA_FIXTURE_PROCS_H
#define GUA_FIXTURE_PROCS_H

#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "proc-pack.h"

/*
 * Each process of a decoded block through ins, whose ?1 ... ?15 are id,
 * pid, start_ms, known, uid and the text fields in proc-pack.h's order.
 * 0, or -1 when a step failed.
 */
static inline int
fixture_insert_block(sqlite3_stmt *ins, const struct proc_block *b)
{
	for (size_t i = 0; i < b->n; i++) {
		sqlite3_bind_int64(ins, 1, b->first_id + (int64_t)i);
		sqlite3_bind_int64(ins, 2, b->e[i].pid);
		sqlite3_bind_int64(ins, 3, b->e[i].start_ms);
		sqlite3_bind_int(ins, 4, b->e[i].known);
		if (b->e[i].uid >= 0)
			sqlite3_bind_int64(ins, 5, b->e[i].uid);
		else
			sqlite3_bind_null(ins, 5);
		for (int f = 0; f < PROC_FIELDS; f++)
			sqlite3_bind_text(ins, 6 + f, proc_block_str(b, i,
			    (enum proc_field)f), -1, SQLITE_TRANSIENT);
		if (sqlite3_step(ins) != SQLITE_DONE)
			return -1;
		sqlite3_reset(ins);
	}
	return 0;
}

static inline void
fixture_unpack_procs(sqlite3 *db)
{
	struct proc_block *b = calloc(1, sizeof(*b));
	sqlite3_stmt *st = NULL, *ins = NULL;

	if (b == NULL || sqlite3_prepare_v2(db, "SELECT first_id, count, "
	    "body FROM proc_blocks ORDER BY first_id", -1, &st, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, "INSERT INTO procs(id, pid, "
	    "start_ms, known, uid, user, comm, cmdline, container, pod, unit, "
	    "slurm_job, pod_namespace, pod_name, container_name) VALUES(?1, "
	    "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
	    -1, &ins, NULL) != SQLITE_OK) {
		fprintf(stderr, "fixture: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (proc_block_decode(b, sqlite3_column_int64(st, 0),
		    sqlite3_column_int64(st, 1), sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2)) != 0) {
			fprintf(stderr, "fixture: a damaged block\n");
			exit(1);
		}
		if (fixture_insert_block(ins, b) != 0) {
			fprintf(stderr, "fixture: %s\n", sqlite3_errmsg(db));
			exit(1);
		}
	}
	sqlite3_finalize(st);
	sqlite3_finalize(ins);
	if (sqlite3_exec(db, "DROP TABLE proc_blocks; DROP TABLE "
	    "proc_unknown_start", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "fixture: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	proc_block_free(b);
	free(b);
}

#endif
