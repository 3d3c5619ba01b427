#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "util.h"

static void
release(struct outfile *o)
{
	free(o->path);
	free(o->tmp);
	o->path = o->tmp = NULL;
	o->fp = NULL;
}

int
outfile_open(struct outfile *o, const char *path, int mode, char *err,
    size_t errlen)
{
	size_t len = strlen(path);
	mode_t mask;
	int fd;

	memset(o, 0, sizeof(*o));
	if (len == 0)
		return util_err(err, errlen, "empty file name");
	o->path = strdup(path);
	o->tmp = malloc(len + 16);
	if (o->path == NULL || o->tmp == NULL) {
		release(o);
		return util_err(err, errlen, "out of memory");
	}
	snprintf(o->tmp, len + 16, "%s.tmp.XXXXXX", path);
	if ((fd = mkstemp(o->tmp)) < 0) {
		util_err(err, errlen, "%s: cannot create a file beside it: %s",
		    path, strerror(errno));
		release(o);
		return -1;
	}
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, (mode_t)mode & ~mask) != 0 ||
	    (o->fp = fdopen(fd, "w")) == NULL) {
		util_err(err, errlen, "%s: %s", o->tmp, strerror(errno));
		close(fd);
		unlink(o->tmp);
		release(o);
		return -1;
	}
	return 0;
}

int
outfile_commit(struct outfile *o, char *err, size_t errlen)
{
	int failed = fflush(o->fp) != 0 || ferror(o->fp) ||
	    fsync(fileno(o->fp)) != 0;
	int saved = errno;

	if (fclose(o->fp) != 0 && !failed) {
		failed = 1;
		saved = errno;
	}
	o->fp = NULL;
	if (!failed && rename(o->tmp, o->path) != 0) {
		failed = 1;
		saved = errno;
	}
	if (failed) {
		util_err(err, errlen, "%s: cannot write: %s", o->path,
		    strerror(saved));
		unlink(o->tmp);
		release(o);
		return -1;
	}
	release(o);
	return 0;
}

void
outfile_abort(struct outfile *o)
{
	if (o->fp != NULL)
		fclose(o->fp);
	if (o->tmp != NULL)
		unlink(o->tmp);
	release(o);
}
