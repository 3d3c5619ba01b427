#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "log.h"
#include "util.h"

static int	 log_fd = STDERR_FILENO;	/* where lines go */
static char	*log_path;			/* NULL: stderr */
static int	 log_captures;			/* stderr is the log file */

/*
 * A lock on the log while it is written (a write lock: the descriptor is
 * write-only): it says the file is in use, so no output of another gua
 * replaces it (outfile_guard_check). An fcntl lock goes when any
 * descriptor of the file is closed, so it is taken again after every
 * close and dup2 that may touch the file.
 */
static void
hold(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	(void)fcntl(fd, F_SETLK, &fl);
}

static int
open_path(const char *path, int *created, char *err, size_t errlen)
{
	int dummy;

	return util_open_own(path, O_WRONLY | O_APPEND, 0640,
	    created ? created : &dummy, err, errlen);
}

int
log_open(const char *path, int *created, char *err, size_t errlen)
{
	int fd;

	log_close();
	if (created != NULL)
		*created = 0;
	if (path == NULL)
		return 0;
	if ((fd = open_path(path, created, err, errlen)) < 0)
		return -1;
	if ((log_path = strdup(path)) == NULL) {
		close(fd);
		return util_err(err, errlen, "out of memory");
	}
	log_fd = fd;
	hold(log_fd);
	return 0;
}

int
log_reopen(char *err, size_t errlen)
{
	int fd;

	if (log_path == NULL)
		return 0;
	/* A refused file may be ours, its descriptor closed: the lock
	   taken again. */
	if ((fd = open_path(log_path, NULL, err, errlen)) < 0) {
		hold(log_fd);
		return -1;
	}
	close(log_fd);
	log_fd = fd;
	if (log_captures)
		dup2(log_fd, STDERR_FILENO);
	hold(log_fd);
	return 0;
}

void
log_capture_stderr(void)
{
	if (log_path == NULL)
		return;
	dup2(log_fd, STDERR_FILENO);
	log_captures = 1;
	hold(log_fd);
}

void
log_close(void)
{
	if (log_path != NULL)
		close(log_fd);
	free(log_path);
	log_path = NULL;
	log_fd = STDERR_FILENO;
	log_captures = 0;
}

int
log_fileno(void)
{
	return log_fd;
}

static void
vlog(const char *prefix, const char *fmt, va_list ap)
{
	char msg[1024], safe[2048], line[2200], ts[32];
	size_t len;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	escape_terminal(msg, safe, sizeof(safe), 0);
	util_format_rfc3339(util_now_ms(), ts, sizeof(ts));
	len = (size_t)snprintf(line, sizeof(line), "%s gua[%ld]: %s%s\n", ts,
	    (long)getpid(), prefix, safe);
	if (len >= sizeof(line)) {
		len = sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	/* One write per line: O_APPEND keeps lines whole. A full disk
	   cannot be logged to; there is nowhere else to say it. */
	while (write(log_fd, line, len) < 0 && errno == EINTR)
		;
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}
