/*
 * compact: raw ticks older than --keep-raw give way to the hourly
 * rollups, and the pages they held go back to the file system. Safe
 * while the collector writes the file: each step is one short
 * transaction (store-compact.c), and the collector's ticks wait for it
 * as they wait for any lock, in memory.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "store.h"
#include "util.h"

/* Hours per transaction: a day, a few milliseconds of work. */
#define COMPACT_HOURS_PER_STEP	24
/* Pages given back per transaction: 8 MB at 8 KiB pages. */
#define COMPACT_PAGES_PER_STEP	1024

static int
compact_exec(const struct cmd_entry *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "keep-raw", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *db = cmd_defaults()->db;
	struct store_retention before, after;
	struct store_compact step;
	struct store *st;
	int64_t keep = -1, worst_us = 0, hours = 0, ticks = 0, freed;
	char err[512], when[40];
	int ch, rc, rebuilt = 0, converted = 0;

	while ((ch = cmd_getopt(c, argc, argv, ":h", longopts)) != -1) {
		switch (ch) {
		case -3:
			return EXIT_OK;
		case 'd':
			if (optarg[0] == '\0')
				return cmd_usage_error(c, "--db: empty path");
			db = optarg;
			break;
		case 'k':
			if (cmd_duration(c, "--keep-raw", optarg, &keep) != 0)
				return EXIT_USAGE;
			if (keep < MS_PER_HOUR)
				return cmd_usage_error(c, "--keep-raw: at least "
				    "1h (the newest hour always stays raw)");
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(c, "unexpected argument '%s'",
		    argv[optind]);
	if (keep < 0)
		return cmd_usage_error(c, "missing --keep-raw, how long raw "
		    "ticks are kept (like 30d)");
	/* Read first: a file that cannot be read as it is gets nothing
	   made beside it. */
	if ((ch = store_open_read(&st, db, err, sizeof(err))) != 0)
		return cmd_db_error(c, ch, err);
	store_close(st);
	if ((ch = store_check_writable(db, err, sizeof(err))) != 0 ||
	    (ch = store_open_append(&st, db, err, sizeof(err))) != 0)
		return cmd_db_error(c, ch, err);
	if (store_retention(st, &before, err, sizeof(err)) != 0)
		goto fail;
	do {
		int64_t t0 = util_mono_us(), dt;

		if ((rc = store_compact_step(st, keep, COMPACT_HOURS_PER_STEP,
		    &step, err, sizeof(err))) < 0)
			goto fail;
		dt = util_mono_us() - t0;
		if (rc > 0 && dt > worst_us)
			worst_us = dt;
		hours += step.hours;
		ticks += step.ticks;
		rebuilt += step.rebuilt;
	} while (rc > 0 && step.more);
	if (store_make_incremental(st, &converted, err, sizeof(err)) != 0)
		goto fail;
	do {
		if (store_vacuum_step(st, COMPACT_PAGES_PER_STEP, &freed, err,
		    sizeof(err)) != 0)
			goto fail;
	} while (freed > 0);
	/* The file shrinks when the WAL is copied back into it. */
	if (store_checkpoint(st, err, sizeof(err)) != 0)
		cmd_warn(c, "%s (the file shrinks at the next checkpoint)",
		    err);
	if (store_retention(st, &after, err, sizeof(err)) != 0)
		goto fail;
	store_close(st);
	if (after.raw_from_ms != 0)
		util_format_rfc3339(after.raw_from_ms, when, sizeof(when));
	else
		util_strlcpy(when, "-", sizeof(when));
	printf("compacted %lld hour%s (%lld raw ticks), hourly only before "
	    "%s; %.1f MB -> %.1f MB%s; longest transaction %.1f ms\n",
	    (long long)hours, hours == 1 ? "" : "s", (long long)ticks, when,
	    (double)before.file_bytes / 1e6, (double)after.file_bytes / 1e6,
	    converted ? " (vacuumed once, now incremental)" : "",
	    (double)worst_us / 1000.0);
	if (rebuilt > 0)
		printf("%d hour%s had sums that differed from their raw ticks: "
		    "summed again from them\n", rebuilt, rebuilt == 1 ? "" :
		    "s");
	return EXIT_OK;
fail:
	store_close(st);
	return cmd_fail(c, "%s", err);
}

const struct cmd_entry cmd_compact_entry = {
	.name = "compact",
	.usage = "[--db PATH] --keep-raw DURATION",
	.summary = "Keep old history as hourly sums only, and shrink the file.",
	.help =
	    "  --db PATH            database to compact (default below)\n"
	    "  --keep-raw DURATION  raw ticks to keep, counted back from the\n"
	    "                       newest tick (at least 1h; like 30d)\n"
	    "\n"
	    "Raw ticks older than that give way to the hourly rollups, one\n"
	    "day of hours per transaction: each hour's sums are checked\n"
	    "against its ticks (and summed again from them where they\n"
	    "differ), each GPU's first and last tick in it kept, and only\n"
	    "then are its ticks deleted. Reports over those hours give the\n"
	    "same sections 1-5 and the same totals; their per-tick rows are\n"
	    "gone, and the report says which part of its window is hourly\n"
	    "only. Freed pages go back to the file system. A database that\n"
	    "an older gua created is vacuumed once to make that possible:\n"
	    "that copy holds the write lock for as long as copying what is\n"
	    "left takes (a live collector's ticks wait in memory, none is\n"
	    "lost) and needs free space for twice what is left. It runs\n"
	    "safely beside a live collector, and can be killed at any time:\n"
	    "every hour is either whole or compacted. 'gua daemon --keep-raw'\n"
	    "does the same as it collects.\n"
	    "Exit status: 0 success, 1 runtime failure, 2 bad usage or a bad\n"
	    "--db.\n",
	.files = 1,
	.exec = compact_exec,
};
