/*
 * The collector's PID file: its PID on line 1, its database on line 2,
 * its log on line 3 (empty when it logs to stderr), the device and inode
 * of the database file it writes on line 4 ("DEV:INO"), on line 5 when
 * it last took up a new database file because its own was deleted or
 * replaced (ms since the epoch, 0 never), and an fcntl write lock held
 * on it for the collector's whole life. Lines 3 to 5 let other commands
 * keep their output off the log and tell what happened to the database. The
 * lock, not the number, says whether a collector runs and which process
 * it is (F_GETLK names the holder), so a stale file whose number now
 * belongs to another process is never mistaken for the collector.
 */
#ifndef GUA_PIDFILE_H
#define GUA_PIDFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pidfile {
	int	 fd;		/* open and locked; -1 when not held */
	char	*path;
};

/*
 * Creates path (0640, O_EXCL, no links) or takes over a stale one, and
 * locks it. When another process holds it: -1, *holder set to its PID
 * (0 when it is in another PID namespace), err "already running".
 * Other failures: -1, *holder -1.
 */
int	pidfile_acquire(struct pidfile *, const char *path, pid_t *holder,
	    char *err, size_t errlen);
/* What the collector writes into its PID file. */
struct pidfile_data {
	pid_t		 pid;
	const char	*db;
	const char	*log;		/* NULL: stderr */
	unsigned long long db_dev, db_ino; /* the database file it writes */
	int64_t		 db_renewed_ms;	/* when it last had to take up a
					   new database file; 0 never */
};

/*
 * Writes "PID\nDB\nLOG\nDEV:INO\nRENEWED_MS\n" (after the daemon's last
 * fork, and again when the database was deleted or replaced).
 */
int	pidfile_write(struct pidfile *, const struct pidfile_data *,
	    char *err, size_t errlen);
/* Removes the file and drops the lock. */
void	pidfile_release(struct pidfile *);

enum pidfile_state {
	PIDFILE_ABSENT,		/* no file: not running */
	PIDFILE_STALE,		/* a file nobody holds: the collector died */
	PIDFILE_HELD,		/* a collector holds it */
};

/* What status and stop read, without changing anything. */
struct pidfile_info {
	enum pidfile_state state;
	pid_t	pid;		/* the number on line 1, 0 if none */
	pid_t	holder;		/* the lock holder (HELD), 0 if unknown */
	char	db[4096];	/* line 2, "" if none */
	char	log[4096];	/* line 3, "" if none */
	int	db_ident;	/* line 4 was there: */
	unsigned long long db_dev, db_ino; /* the file the collector writes */
	int64_t	db_renewed_ms;	/* line 5, 0 if none */
};

/* Returns 0, or -1 when the file cannot be examined (status 4). */
int	pidfile_inspect(const char *path, struct pidfile_info *, char *err,
	    size_t errlen);
/* Parses a PID file's text; 0, or -1 when line 1 is not a PID. */
int	pidfile_parse(const char *buf, size_t len, pid_t *pid, char *db,
	    size_t dblen);
/* Lines 3 to 5 into info; db_ident 0 when line 4 is not "DEV:INO". */
void	pidfile_parse_more(const char *buf, size_t len,
	    struct pidfile_info *info);

#endif
