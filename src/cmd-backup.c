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
#include "store.h"


static int
backup_exec(const struct cmd_entry *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db = CMD_DEFAULT_DB, *out;
	struct store *st;
	char err[512];
	int ch;

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
	if ((ch = store_open_read(&st, db, err, sizeof(err))) != 0)
		return cmd_db_error(c, ch, err);
	if (store_backup(st, out, err, sizeof(err)) != 0) {
		store_close(st);
		if (strstr(err, "already exists") != NULL)
			return cmd_usage_error(c, "%s (backup never overwrites; "
			    "choose a new file)", err);
		return cmd_fail(c, "%s", err);
	}
	store_close(st);
	return EXIT_OK;
}

const struct cmd_entry cmd_backup_entry = {
	.name = "backup",
	.usage = "[--db PATH] OUT",
	.summary = "Copy a database safely, even while the collector writes it.",
	.help =
	    "  --db PATH    database to copy (default /tmp/gua.db)\n"
	    "  OUT          the copy: a new file (never overwritten), created\n"
	    "               0640 without following a symbolic link\n"
	    "\n"
	    "The copy is taken with SQLite's online backup: a consistent\n"
	    "snapshot of the last committed tick, in one self-contained file\n"
	    "that 'gua report' reads. A plain cp of a live database can be\n"
	    "torn.\n"
	    "Exit status: 0 success, 1 runtime failure, 2 bad usage, a bad\n"
	    "--db, or an OUT that exists.\n",
	.exec = backup_exec,
};
