/*
 * What gua writes besides a database it collects into: reports (-o),
 * the Prometheus textfile, copies (backup) and converted histories
 * (import). Every such file is built under a temporary name beside its
 * target, ".NAME.gua-tmp-PID", flushed to disk, then renamed into place:
 * a reader or a crash sees the old file or the new one, never half of
 * one, and at most a temporary file that is plainly gua's, which the next
 * write of the same target removes once its writer is gone.
 *
 * And no output ever lands on a file the user recorded: a guard lists
 * the databases in use (with the files SQLite keeps beside them) and the
 * collector's PID file and log, and every writer checks its target
 * against it first.
 */
#ifndef GUA_OUTFILE_H
#define GUA_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

struct outfile {
	FILE	*fp;		/* write here */
	char	*path;		/* the target */
	char	*tmp;		/* the temporary file beside it */
	int	 direct;	/* a device or FIFO, written as it is */
};

/*
 * Creates the temporary file with mode (less the umask). A target that
 * is a character device (/dev/null) or names a descriptor (/dev/stdout,
 * /dev/stderr, /dev/fd/N, /proc/self/fd/N) is written to directly,
 * nothing replaced; anything else at the name, a link or a FIFO too, is
 * replaced, never written through.
 */
int	outfile_open(struct outfile *, const char *path, int mode, char *err,
	    size_t errlen);
/* The same, but whatever is at path is replaced: for a file written
   again and again (the textfile), never a device. */
int	outfile_open_file(struct outfile *, const char *path, int mode,
	    char *err, size_t errlen);
/* Flushes, syncs and renames over the target, then syncs its directory. */
int	outfile_commit(struct outfile *, char *err, size_t errlen);
/* Removes the temporary file. */
void	outfile_abort(struct outfile *);

/*
 * The temporary name of path for this process: ".NAME.gua-tmp-PID" in
 * path's directory. 0, or -1 with err when it does not fit.
 */
int	outfile_tmp_name(const char *path, char *buf, size_t len, char *err,
	    size_t errlen);
/*
 * Creates a temporary file (O_EXCL, never through a link) with mode less
 * the umask, and holds an flock on it while the descriptor is open, so
 * outfile_sweep never takes a file that is being built. A temporary file
 * of this very process that a crash of an earlier one with the same PID
 * left is swept first. Returns the descriptor, or -1 with err.
 */
int	outfile_tmp_create(const char *tmp, int mode, char *err,
	    size_t errlen);
/*
 * Removes what writers of path that are gone left beside it: each
 * ".NAME.gua-tmp-PID" (and its -wal, -shm, -journal) whose PID is no
 * process here and whose flock nobody holds.
 */
void	outfile_sweep(const char *path);
/*
 * Gives tmp the name path, which must not exist (not even as a link),
 * then syncs the directory so the name survives a power loss.
 */
int	outfile_publish(const char *tmp, const char *path, char *err,
	    size_t errlen);
/* Syncs the directory that holds path (for a name just made). */
void	outfile_sync_dir(const char *path);

/*
 * The files no output may replace. A database brings the three files
 * SQLite keeps beside it. what says whose file it is, in words that
 * follow "is" ("the database this report reads"); it is not copied.
 */
struct outfile_guard {
	struct outfile_kept {
		char		*path;
		const char	*what;
		int		 side;	/* beside a database */
	}	*v;
	size_t	 n, cap;
};

void	outfile_guard_init(struct outfile_guard *);
/* 0, or -1 out of memory. */
int	outfile_guard_file(struct outfile_guard *, const char *path,
	    const char *what);
int	outfile_guard_db(struct outfile_guard *, const char *path,
	    const char *what);
/*
 * Whether out names one of the guarded files, by any spelling: the same
 * device and inode when both exist, else the same directory (by device
 * and inode) and name. 0 when it does not; -1 with err naming both when
 * it does.
 */
int	outfile_guard_check(const struct outfile_guard *, const char *out,
	    char *err, size_t errlen);
/*
 * For a writer that replaces what is there (report -o, the textfile),
 * guarded or not, what is at the name itself (a link is not followed):
 * whether it is a directory, a socket or block device, an SQLite
 * database, a file SQLite keeps beside one, or a file a process holds a
 * lock on (a collector's PID file and log). 0 when none of these; -1
 * with err saying which.
 */
int	outfile_check_target(const char *out, char *err, size_t errlen);
void	outfile_guard_free(struct outfile_guard *);

#endif
