#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pidfile.h"
#include "util.h"

/* A lock over the whole file. */
static void
whole(struct flock *fl, short type)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
}

/* The holder of a write lock on fd: its PID, 0 when unknown, -1 none. */
static pid_t
lock_holder(int fd)
{
	struct flock fl;

	whole(&fl, F_WRLCK);
	if (fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK)
		return -1;
	return fl.l_pid > 0 ? fl.l_pid : 0;
}

int
pidfile_acquire(struct pidfile *pf, const char *path, pid_t *holder,
    char *err, size_t errlen)
{
	struct stat a, b;
	struct flock fl;
	int fd, created;

	pf->fd = -1;
	pf->path = NULL;
	*holder = -1;
	/* A collector that exits unlinks its file: if ours was unlinked
	   between open and lock, open again. */
	for (int tries = 0; tries < 10; tries++) {
		fd = util_open_own(path, O_RDWR, 0640, &created, err, errlen);
		if (fd < 0)
			return -1;
		whole(&fl, F_WRLCK);
		if (fcntl(fd, F_SETLK, &fl) != 0) {
			int e = errno;

			*holder = lock_holder(fd);
			close(fd);
			if (e != EAGAIN && e != EACCES)
				return util_err(err, errlen, "%s: cannot lock: "
				    "%s", path, strerror(e));
			if (*holder < 0)
				continue;	/* released meanwhile */
			if (*holder > 0)
				return util_err(err, errlen, "already running "
				    "(PID %ld holds %s)", (long)*holder, path);
			return util_err(err, errlen, "already running (a "
			    "process in another PID namespace holds %s)",
			    path);
		}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			/* A stale file's old PID and database are not ours:
			   empty until pidfile_write. */
			if (ftruncate(fd, 0) != 0) {
				util_err(err, errlen, "%s: %s", path,
				    strerror(errno));
				close(fd);
				return -1;
			}
			if ((pf->path = strdup(path)) == NULL) {
				close(fd);
				if (created)
					unlink(path);
				return util_err(err, errlen, "out of memory");
			}
			pf->fd = fd;
			return 0;
		}
		close(fd);
	}
	return util_err(err, errlen, "%s: keeps being replaced; cannot lock it",
	    path);
}

int
pidfile_write(struct pidfile *pf, pid_t pid, const char *db, char *err,
    size_t errlen)
{
	char buf[4200];
	int len;

	len = snprintf(buf, sizeof(buf), "%ld\n%s\n", (long)pid, db);
	if (len < 0 || (size_t)len >= sizeof(buf))
		return util_err(err, errlen, "%s: database path too long",
		    pf->path);
	if (ftruncate(pf->fd, 0) != 0 ||
	    pwrite(pf->fd, buf, (size_t)len, 0) != len)
		return util_err(err, errlen, "%s: cannot write: %s", pf->path,
		    strerror(errno));
	return 0;
}

void
pidfile_release(struct pidfile *pf)
{
	if (pf->fd < 0)
		return;
	/* Unlink while still locked, so nobody takes over a dying file. */
	unlink(pf->path);
	close(pf->fd);
	free(pf->path);
	pf->fd = -1;
	pf->path = NULL;
}

int
pidfile_parse(const char *buf, size_t len, pid_t *pid, char *db, size_t dblen)
{
	char line[32];
	const char *nl = memchr(buf, '\n', len), *p;
	size_t n = nl ? (size_t)(nl - buf) : len;
	long long v;

	*pid = 0;
	if (dblen > 0)
		db[0] = '\0';
	if (n == 0 || n >= sizeof(line))
		return -1;
	memcpy(line, buf, n);
	line[n] = '\0';
	if (util_parse_ll(line, 1, 0x7fffffff, &v) != 0)
		return -1;
	*pid = (pid_t)v;
	if (nl != NULL && dblen > 0) {
		p = nl + 1;
		n = len - (size_t)(p - buf);
		nl = memchr(p, '\n', n);
		if (nl != NULL)
			n = (size_t)(nl - p);
		if (n >= dblen)
			n = dblen - 1;
		memcpy(db, p, n);
		db[n] = '\0';
	}
	return 0;
}

int
pidfile_inspect(const char *path, struct pidfile_info *info, char *err,
    size_t errlen)
{
	char buf[4200];
	struct stat st;
	ssize_t n;
	int fd;

	memset(info, 0, sizeof(*info));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT) {
			info->state = PIDFILE_ABSENT;
			return 0;
		}
		if (errno == ELOOP)
			return util_err(err, errlen, "%s: is a symbolic link; "
			    "not a gua PID file", path);
		return util_err(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return util_err(err, errlen, "%s: not a regular file", path);
	}
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		util_err(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	pidfile_parse(buf, (size_t)n, &info->pid, info->db, sizeof(info->db));
	info->holder = lock_holder(fd);
	info->state = info->holder >= 0 ? PIDFILE_HELD : PIDFILE_STALE;
	if (info->holder < 0)
		info->holder = 0;
	close(fd);
	return 0;
}
