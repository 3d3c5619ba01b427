/*
 * Commands: one const descriptor per command, collected in a table by
 * cmd.c. A command parses its own options, calls modules and maps their
 * errors to an exit status and one line on stderr.
 */
#ifndef GUA_CMD_H
#define GUA_CMD_H

#include <stdint.h>
#include <stdio.h>

#include <limits.h>

/*
 * The collector's files, the defaults of every command that takes them:
 * kept where they survive a reboot and /tmp cleaners, and out of a
 * directory every user may write. For root /var/lib/gua/gua.db,
 * /run/gua/gua.pid and /var/log/gua.log; for any other user
 * $XDG_STATE_HOME/gua/gua.db (~/.local/state/gua without it),
 * $XDG_RUNTIME_DIR/gua.pid (the state directory without it) and
 * gua.log in the state directory.
 */
struct cmd_defaults {
	char	db[PATH_MAX];
	char	pid_file[PATH_MAX];
	char	log_file[PATH_MAX];
};
const struct cmd_defaults *cmd_defaults(void);
/*
 * Before the collector writes a default file: its directory, when it is
 * gua's own (/var/lib/gua, /run/gua, the state directory's gua) and
 * missing, is created 0750. Only that last component, and never through
 * a symbolic link. 0, or -1 with err.
 */
int	cmd_make_default_dir(const char *file, char *err, size_t errlen);

/*
 * The files every command that writes an output keeps it off: the
 * default PID file and pid_file (when not NULL), the database and log
 * each names, and the default database and log when they exist. Adds to
 * g; 0, or -1 out of memory.
 */
struct outfile_guard;
int	cmd_guard_collector(struct outfile_guard *g, const char *pid_file);

/* Exit statuses (status follows LSB instead, see cmd-status.c). */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* a runtime failure */
#define EXIT_USAGE	2	/* bad usage, a bad value, a bad --db */

struct cmd_entry {
	const char	*name;
	const char	*alias;		/* another name, or NULL */
	const char	*usage;		/* options, after "gua NAME " */
	const char	*summary;	/* one line for "gua help" */
	const char	*help;		/* the options, one per line */
	const char	*repeatable;	/* option characters that may be
					   given more than once; others
					   that take a value may not */
	int		 files;		/* help ends with the default files */
	int		(*exec)(const struct cmd_entry *, int argc,
			    char **argv);
};

extern const struct cmd_entry cmd_daemon_entry;
extern const struct cmd_entry cmd_start_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_stop_entry;
extern const struct cmd_entry cmd_report_entry;
extern const struct cmd_entry cmd_top_entry;
extern const struct cmd_entry cmd_demo_entry;
extern const struct cmd_entry cmd_doctor_entry;
extern const struct cmd_entry cmd_import_entry;
extern const struct cmd_entry cmd_backup_entry;
extern const struct cmd_entry cmd_compact_entry;
extern const struct cmd_entry cmd_version_entry;
extern const struct cmd_entry cmd_help_entry;

/* Runs the command named by argv[1]; returns the exit status. */
int	cmd_main(int argc, char **argv);
const struct cmd_entry *cmd_find(const char *name);
/* Full help of a command on stdout. */
void	cmd_print_help(const struct cmd_entry *);

/*
 * Option parsing with getopt_long, silent, so every error is ours: returns
 * the option character like getopt_long, or -2 after printing an unknown or
 * incomplete option, or an option that takes one value given twice (the
 * caller returns EXIT_USAGE). "-h"/"--help" print the help and return -3
 * (the caller returns EXIT_OK). A parse starts with optind 0.
 */
struct option;
int	cmd_getopt(const struct cmd_entry *, int argc, char **argv,
	    const char *shortopts, const struct option *longopts);

/* "gua NAME: message" on stderr, then a hint; returns EXIT_USAGE. */
int	cmd_usage_error(const struct cmd_entry *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* "gua NAME: message" on stderr; returns EXIT_FAIL. */
int	cmd_fail(const struct cmd_entry *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * A database refused by the store (store.h): bad usage (exit 2) for
 * STORE_NOT_GUA, a runtime failure (exit 1) otherwise. Returns the status.
 */
int	cmd_db_error(const struct cmd_entry *, int rc, const char *err);
/* "gua NAME: warning: message" on stderr. */
void	cmd_warn(const struct cmd_entry *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Parses a duration option value; 0, or prints the error and returns -1. */
int	cmd_duration(const struct cmd_entry *, const char *option,
	    const char *value, int64_t *ms);
/*
 * "Now" for reports and the demo: the wall clock, or GUA_NOW (an RFC 3339
 * time) so tests and examples can be reproduced. -1 when GUA_NOW is bad.
 */
int	cmd_now(const struct cmd_entry *, int64_t *now_ms);

/*
 * Whether text output to f may use colour: f is a terminal, NO_COLOR is
 * unset or empty (https://no-color.org), and TERM is not "dumb".
 */
int	cmd_colour(FILE *f);

/*
 * A database's size, oldest raw tick and oldest hour (store_retention),
 * as status and doctor show them: lines of text, or the members
 * database_bytes, oldest_raw_tick_at, oldest_hour_at and
 * hourly_only_before (all null when r is NULL).
 */
struct store_retention;
struct json;
void	cmd_print_retention(const struct store_retention *r);
void	cmd_format_retention(const struct store_retention *r, char *buf,
	    size_t len);
void	cmd_json_retention(struct json *j, const struct store_retention *r);

/* The NVML library to load: the option's value, else $GUA_NVML_LIBRARY,
   else NULL (NVML's usual names). */
const char *cmd_nvml_library(const char *option);


#endif
