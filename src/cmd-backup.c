/*
 * backup: a consistent copy of a database, safe while the collector
 * writes it (a plain copy of a file in WAL mode can be torn). The copy is
 * a gua database that report reads, in one file with no -wal beside it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "outfile.h"
#include "store.h"
#include "util.h"

/* The damaged ticks named one by one; past that, counted. */
#define LEFT_OUT_NAMED	10

/* Says which ticks the copy left out, by time, and what else it lost. */
static void
tell_damage(const struct cmd_entry *c, const struct store_damage *d)
{
	char ts[40];

	for (size_t i = 0; i < d->nleft && i < LEFT_OUT_NAMED; i++) {
		util_format_rfc3339_ms(d->left[i].ts_ms, ts, sizeof(ts));
		cmd_warn(c, "the tick of %s cannot be decoded (a damaged "
		    "row): left out of the copy, a gap there", ts);
	}
	if (d->nleft > LEFT_OUT_NAMED)
		cmd_warn(c, "... and %zu more such ticks",
		    d->nleft - LEFT_OUT_NAMED);
	if (d->unknown_mem > 0)
		cmd_warn(c, "%zu tick%s kept with some process memory unknown: "
		    "it was recorded only in a tick that is damaged or "
		    "missing", d->unknown_mem, d->unknown_mem == 1 ? "" : "s");
	cmd_warn(c, "the copy lacks %zu damaged tick%s and is otherwise "
	    "whole; the original was not changed", d->nleft,
	    d->nleft == 1 ? "" : "s");
}

/* OUT may not be a file in use: the database copied, the collector's. */
static int
check_out(const struct cmd_entry *c, const char *db, const char *out)
{
	struct outfile_guard g;
	char err[PATH_MAX * 2 + 200];
	int rc;

	outfile_guard_init(&g);
	if (outfile_guard_db(&g, db, "the database being copied") != 0 ||
	    cmd_guard_collector(&g, NULL) != 0) {
		outfile_guard_free(&g);
		return cmd_fail(c, "out of memory");
	}
	rc = outfile_guard_check(&g, out, err, sizeof(err));
	outfile_guard_free(&g);
	if (rc != 0)
		return cmd_usage_error(c, "OUT: %s", err);
	return EXIT_OK;
}


static int
backup_exec(const struct cmd_entry *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db = cmd_defaults()->db, *out;
	struct store_damage dmg;
	struct store *st;
	char err[512];
	int ch, rc;

	while ((ch = cmd_getopt(c, argc, argv, ":h", longopts)) != -1) {
		switch (ch) {
		case -3:
			return EXIT_OK;
		case 'd':
			if (optarg[0] == '\0')
				return cmd_usage_error(c, "--db: empty path");
			db = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind == argc)
		return cmd_usage_error(c, "missing OUT, the file to create");
	out = argv[optind];
	if (optind + 1 < argc)
		return cmd_usage_error(c, "unexpected argument '%s'",
		    argv[optind + 1]);
	if (out[0] == '\0')
		return cmd_usage_error(c, "OUT: empty path");
	/* "-" reads as standard output, where a database cannot go. */
	if (strcmp(out, "-") == 0)
		return cmd_usage_error(c, "OUT: a copy is a database file, not "
		    "for standard output; name a file (./- for one called -)");
	if ((rc = check_out(c, db, out)) != EXIT_OK)
		return rc;
	if ((ch = store_open_read(&st, db, err, sizeof(err))) != 0)
		return cmd_db_error(c, ch, err);
	if (store_backup(st, out, &dmg, err, sizeof(err)) != 0) {
		store_close(st);
		if (strstr(err, "already exists") != NULL)
			return cmd_usage_error(c, "%s (backup never overwrites; "
			    "choose a new file)", err);
		return cmd_fail(c, "%s", err);
	}
	store_close(st);
	if (dmg.nleft > 0 || dmg.unknown_mem > 0)
		tell_damage(c, &dmg);
	free(dmg.left);
	return EXIT_OK;
}

const struct cmd_entry cmd_backup_entry = {
	.name = "backup",
	.usage = "[--db PATH] OUT",
	.summary = "Copy a database safely, even while the collector writes it.",
	.help =
	    "  --db PATH    database to copy (default below)\n"
	    "  OUT          the copy: a new file (never overwritten), created\n"
	    "               0640 without following a symbolic link\n"
	    "\n"
	    "The copy is taken with SQLite's online backup: a consistent\n"
	    "snapshot of the last committed tick, in one self-contained file\n"
	    "that 'gua report' reads. A plain cp of a live database can be\n"
	    "torn. It is built as .OUT.gua-tmp-PID beside OUT and renamed\n"
	    "once complete and synced: a crash leaves no OUT, only that file,\n"
	    "which the next backup to OUT removes.\n"
	    "A tick whose row cannot be decoded (a damaged row) is left out\n"
	    "of the copy, a gap; each one is named on stderr by its time, and\n"
	    "the backup still exits 0.\n"
	    "Exit status: 0 success, 1 runtime failure, 2 bad usage, a bad\n"
	    "--db, an OUT that exists, or an OUT that is a file in use (the\n"
	    "database, a file beside it, the collector's PID file or log).\n",
	.files = 1,
	.exec = backup_exec,
};
