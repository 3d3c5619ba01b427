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
pidfile_write(struct pidfile *pf, const struct pidfile_data *d, char *err,
    size_t errlen)
{
	char buf[8400];
	int len;

	len = snprintf(buf, sizeof(buf), "%ld\n%s\n%s\n%llu:%llu\n%lld\n",
	    (long)d->pid, d->db, d->log ? d->log : "", d->db_dev, d->db_ino,
	    (long long)d->db_renewed_ms);
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

/* Line n (from 0) of buf into out, cut to its size; 0, or -1 if none. */
static int
line_of(const char *buf, size_t len, int n, char *out, size_t outlen)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t k;

	for (; n > 0; n--) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return -1;
		p = nl + 1;
	}
	if (p >= end)
		return -1;
	nl = memchr(p, '\n', (size_t)(end - p));
	k = nl ? (size_t)(nl - p) : (size_t)(end - p);
	if (k >= outlen)
		k = outlen - 1;
	memcpy(out, p, k);
	out[k] = '\0';
	return 0;
}

void
pidfile_parse_more(const char *buf, size_t len, struct pidfile_info *info)
{
	unsigned long long dev, ino;
	char line[64], *colon, *end;
	long long v;

	info->db_ident = 0;
	info->db_dev = info->db_ino = 0;
	info->db_renewed_ms = 0;
	if (line_of(buf, len, 2, info->log, sizeof(info->log)) != 0)
		info->log[0] = '\0';
	if (line_of(buf, len, 4, line, sizeof(line)) == 0 &&
	    util_parse_ll(line, 0, INT64_MAX, &v) == 0)
		info->db_renewed_ms = v;
	if (line_of(buf, len, 3, line, sizeof(line)) != 0 ||
	    (colon = strchr(line, ':')) == NULL || line[0] < '0' ||
	    line[0] > '9' || colon[1] < '0' || colon[1] > '9')
		return;
	*colon = '\0';
	errno = 0;
	dev = strtoull(line, &end, 10);
	if (errno != 0 || *end != '\0')
		return;
	ino = strtoull(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0')
		return;
	info->db_dev = dev;
	info->db_ino = ino;
	info->db_ident = 1;
}

int
pidfile_inspect(const char *path, struct pidfile_info *info, char *err,
    size_t errlen)
{
	char buf[8400];
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
	pidfile_parse_more(buf, (size_t)n, info);
	info->holder = lock_holder(fd);
	info->state = info->holder >= 0 ? PIDFILE_HELD : PIDFILE_STALE;
	if (info->holder < 0)
		info->holder = 0;
	close(fd);
	return 0;
}
