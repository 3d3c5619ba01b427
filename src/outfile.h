/*
 * Files replaced atomically: written to a temporary file in the same
 * directory, flushed to disk, then renamed over the target. A reader sees
 * the old file or the new one, never half of one; a crash leaves at most a
 * stray temporary file.
 */
#ifndef GUA_OUTFILE_H
#define GUA_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

struct outfile {
	FILE	*fp;		/* write here */
	char	*path;		/* the target */
	char	*tmp;		/* the temporary file beside it */
};

/* Creates the temporary file with mode (less the umask). */
int	outfile_open(struct outfile *, const char *path, int mode, char *err,
	    size_t errlen);
/* Flushes, syncs and renames over the target. */
int	outfile_commit(struct outfile *, char *err, size_t errlen);
/* Removes the temporary file. */
void	outfile_abort(struct outfile *);

#endif
