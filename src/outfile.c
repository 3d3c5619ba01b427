#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grow.h"
#include "outfile.h"
#include "util.h"

#define TMP_MARK	".gua-tmp-"

/* The files SQLite may open beside a database (see store.c). */
static const char *const sidecars[] = { "-wal", "-shm", "-journal" };

int
outfile_tmp_name(const char *path, char *buf, size_t len, char *err,
    size_t errlen)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path + 1) : 0;

	if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return util_err(err, errlen, "%s: not a file name", path);
	if ((size_t)snprintf(buf, len, "%.*s.%s" TMP_MARK "%ld", dirlen, path,
	    name, (long)getpid()) >= len ||
	    strlen(name) + sizeof(TMP_MARK) + 20 > NAME_MAX)
		return util_err(err, errlen, "%s: name too long for a "
		    "temporary file beside it", path);
	return 0;
}

/* Whether pid is a process here (one of another user's included). */
static int
pid_alive(long pid)
{
	return pid > 0 && pid <= INT_MAX && (kill((pid_t)pid, 0) == 0 ||
	    errno == EPERM);
}

/*
 * Removes a temporary file left by a writer that is gone: a regular file
 * of this user whose flock is free. Its lock is held while it goes, so a
 * writer that just made it never loses it.
 */
static void
remove_stale(int dfd, const char *name)
{
	struct stat st;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid() && flock(fd, LOCK_EX | LOCK_NB) == 0)
		unlinkat(dfd, name, 0);
	close(fd);
}

static void
remove_stale_path(const char *path)
{
	char dir[PATH_MAX];
	const char *name = util_split_path(path, dir, sizeof(dir));
	int dfd;

	if (dir[0] == '\0' ||
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	remove_stale(dfd, name);
	close(dfd);
}

/*
 * Whether name is one of target's temporary files: ".TARGET.gua-tmp-PID"
 * and nothing after it (*side 0), or one of SQLite's files beside it
 * (*side 1). *pid is the writer's.
 */
static int
tmp_of(const char *name, const char *target, long *pid, int *side)
{
	size_t tlen = strlen(target);
	const char *p;
	char *end;

	if (name[0] != '.' || strncmp(name + 1, target, tlen) != 0 ||
	    strncmp(name + 1 + tlen, TMP_MARK, sizeof(TMP_MARK) - 1) != 0)
		return 0;
	p = name + 1 + tlen + sizeof(TMP_MARK) - 1;
	if (*p < '0' || *p > '9')
		return 0;
	errno = 0;
	*pid = strtol(p, &end, 10);
	if (errno != 0)
		return 0;
	*side = 0;
	if (*end == '\0')
		return 1;
	for (size_t i = 0; i < ARRAY_LEN(sidecars); i++)
		if (strcmp(end, sidecars[i]) == 0) {
			*side = 1;
			return 1;
		}
	return 0;
}

void
outfile_sweep(const char *path)
{
	char dir[PATH_MAX], main_name[NAME_MAX + 1];
	const char *target = util_split_path(path, dir, sizeof(dir));
	struct dirent *e;
	struct stat st;
	DIR *d;
	long pid;
	int side;

	if (dir[0] == '\0' || target[0] == '\0' ||
	    (d = opendir(dir)) == NULL)
		return;
	/* The files first, then what SQLite left beside one that is gone. */
	for (int pass = 0; pass < 2; pass++) {
		rewinddir(d);
		while ((e = readdir(d)) != NULL) {
			if (!tmp_of(e->d_name, target, &pid, &side) ||
			    side != pass ||
			    (pid != (long)getpid() && pid_alive(pid)))
				continue;
			if (!side) {
				remove_stale(dirfd(d), e->d_name);
				continue;
			}
			snprintf(main_name, sizeof(main_name), ".%s" TMP_MARK
			    "%ld", target, pid);
			if (fstatat(dirfd(d), main_name, &st,
			    AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT &&
			    fstatat(dirfd(d), e->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
			    st.st_uid == geteuid())
				unlinkat(dirfd(d), e->d_name, 0);
		}
	}
	closedir(d);
}

/*
 * The target a temporary name stands for, DIR/NAME of DIR/.NAME.gua-tmp-PID:
 * what an error names, since the user never gave the temporary name.
 */
static const char *
target_of(const char *tmp, char *buf, size_t len)
{
	const char *slash = strrchr(tmp, '/');
	const char *name = slash ? slash + 1 : tmp;
	const char *mark = strstr(name, TMP_MARK);
	int dirlen = (int)(name - tmp);

	if (name[0] != '.' || mark == NULL ||
	    (size_t)snprintf(buf, len, "%.*s%.*s", dirlen, tmp,
	    (int)(mark - name - 1), name + 1) >= len)
		return tmp;
	return buf;
}

int
outfile_tmp_create(const char *tmp, int mode, char *err, size_t errlen)
{
	char target[PATH_MAX];
	int fd;

	for (int tries = 0; tries < 2; tries++) {
		fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC | O_NOCTTY, (mode_t)mode);
		if (fd >= 0)
			break;
		if (errno != EEXIST || tries > 0) {
			int e = errno;

			util_err(err, errlen, "%s: cannot create: %s",
			    target_of(tmp, target, sizeof(target)),
			    strerror(e));
			errno = e;
			return -1;
		}
		/* This PID's, so left by a crash of an earlier process. */
		remove_stale_path(tmp);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		util_err(err, errlen, "%s: cannot lock: %s", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	return fd;
}

void
outfile_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd;

	util_split_path(path, dir, sizeof(dir));
	if (dir[0] == '\0')
		return;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int
outfile_publish(const char *tmp, const char *path, char *err, size_t errlen)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) != 0) {
		/* Filesystems without RENAME_NOREPLACE: a hard link fails on
		   an existing name as well. */
		if ((errno != EINVAL && errno != ENOSYS) ||
		    link(tmp, path) != 0) {
			if (errno == EEXIST)
				return util_err(err, errlen, "%s: already "
				    "exists", path);
			return util_err(err, errlen, "%s: cannot create: %s",
			    path, strerror(errno));
		}
		unlink(tmp);
	}
	/* The new name survives a power loss once its directory is synced. */
	outfile_sync_dir(path);
	return 0;
}

static void
release(struct outfile *o)
{
	free(o->path);
	free(o->tmp);
	o->path = o->tmp = NULL;
	o->fp = NULL;
}

/*
 * A character device (-o /dev/null, /dev/tty) or a descriptor's name
 * (/dev/stdout) is written to as it is: there is nothing to replace
 * atomically, and replacing it would put a plain file in its place.
 */
static int
open_direct(struct outfile *o, const char *path, int fdno,
    const struct stat *seen, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if ((o->path = strdup(path)) == NULL)
		return util_err(err, errlen, "out of memory");
	fd = fdno >= 0 ? fcntl(fdno, F_DUPFD_CLOEXEC, 0) :
	    open(path, O_WRONLY | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	/* Still the device seen, not a file put there since. */
	if (fd >= 0 && fdno < 0 && (fstat(fd, &st) != 0 ||
	    !S_ISCHR(st.st_mode) || st.st_dev != seen->st_dev ||
	    st.st_ino != seen->st_ino)) {
		close(fd);
		fd = -1;
		errno = EAGAIN;
	}
	/* Opened without waiting, written to as any file. */
	if (fd >= 0 && fdno < 0)
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (fd < 0 || (o->fp = fdopen(fd, "w")) == NULL) {
		util_err(err, errlen, "%s: cannot write: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		release(o);
		return -1;
	}
	o->direct = 1;
	return 0;
}

/*
 * Where a name's directory really is (links followed, as the kernel
 * would), and the name in it: 0, or -1 when the directory cannot be
 * resolved.
 */
static int
real_place(const char *path, char *dir, const char **name)
{
	char d[PATH_MAX];

	*name = util_split_path(path, d, sizeof(d));
	return d[0] != '\0' && realpath(d, dir) != NULL ? 0 : -1;
}

/*
 * The descriptor a name stands for: standard output or error, however
 * spelled (/dev/stdout, /dev/stderr, /dev/fd/1, /proc/self/fd/2); -1 for
 * any other name. Opened anew, such a name would start at the file's
 * beginning and replace it, even where the shell opened it to append
 * (gua report -o /dev/stdout >> all.txt). Other descriptors are not
 * taken: by the time the report is written, SQLite's files are open on
 * them.
 */
static int
named_fd(const char *path)
{
	char dir[PATH_MAX], fds[64];
	const char *name;

	if (real_place(path, dir, &name) != 0)
		return -1;
	snprintf(fds, sizeof(fds), "/proc/%ld/fd", (long)getpid());
	if (strcmp(dir, "/dev") == 0 && strcmp(name, "stdout") == 0)
		return STDOUT_FILENO;
	if (strcmp(dir, "/dev") == 0 && strcmp(name, "stderr") == 0)
		return STDERR_FILENO;
	if (strcmp(dir, fds) == 0 && strcmp(name, "1") == 0)
		return STDOUT_FILENO;
	if (strcmp(dir, fds) == 0 && strcmp(name, "2") == 0)
		return STDERR_FILENO;
	return -1;
}

/*
 * Whether a name lies in /dev or /proc, where only a device is written:
 * /dev/shm, a file system for files, aside.
 */
static int
in_system_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *name;

	if (real_place(path, dir, &name) != 0)
		return 0;
	if (strcmp(dir, "/dev/shm") == 0 || strncmp(dir, "/dev/shm/", 9) == 0)
		return 0;
	return strcmp(dir, "/dev") == 0 || strncmp(dir, "/dev/", 5) == 0 ||
	    strcmp(dir, "/proc") == 0 || strncmp(dir, "/proc/", 6) == 0;
}

int
outfile_open(struct outfile *o, const char *path, int mode, char *err,
    size_t errlen)
{
	struct stat st;
	int fdno;

	memset(o, 0, sizeof(*o));
	if (path[0] == '\0')
		return util_err(err, errlen, "empty file name");
	/*
	 * Whatever else is at the name is replaced, never written through:
	 * gua's defaults live in /tmp, where anyone may plant a link or a
	 * FIFO. A character device only root can make.
	 */
	if ((fdno = named_fd(path)) >= 0)
		return open_direct(o, path, fdno, NULL, err, errlen);
	if (lstat(path, &st) == 0 && S_ISCHR(st.st_mode))
		return open_direct(o, path, -1, &st, err, errlen);
	return outfile_open_file(o, path, mode, err, errlen);
}

int
outfile_open_file(struct outfile *o, const char *path, int mode, char *err,
    size_t errlen)
{
	char tmp[PATH_MAX];
	int fd;

	memset(o, 0, sizeof(*o));
	if (path[0] == '\0')
		return util_err(err, errlen, "empty file name");
	if (outfile_tmp_name(path, tmp, sizeof(tmp), err, errlen) != 0)
		return -1;
	o->path = strdup(path);
	o->tmp = strdup(tmp);
	if (o->path == NULL || o->tmp == NULL) {
		release(o);
		return util_err(err, errlen, "out of memory");
	}
	outfile_sweep(path);
	if ((fd = outfile_tmp_create(o->tmp, mode, err, errlen)) < 0) {
		release(o);
		return -1;
	}
	if ((o->fp = fdopen(fd, "w")) == NULL) {
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
	    (!o->direct && fsync(fileno(o->fp)) != 0);
	int saved = errno;

	if (o->direct) {
		if (fclose(o->fp) != 0 && !failed) {
			failed = 1;
			saved = errno;
		}
		o->fp = NULL;
		if (failed)
			util_err(err, errlen, "%s: cannot write: %s", o->path,
			    strerror(saved));
		release(o);
		return failed ? -1 : 0;
	}
	if (!failed && rename(o->tmp, o->path) != 0) {
		failed = 1;
		saved = errno;
	}
	/* Closed after the rename: until then its lock says it is wanted. */
	if (fclose(o->fp) != 0 && !failed) {
		failed = 1;
		saved = errno;
	}
	o->fp = NULL;
	if (failed) {
		util_err(err, errlen, "%s: cannot write: %s", o->path,
		    strerror(saved));
		unlink(o->tmp);
		release(o);
		return -1;
	}
	outfile_sync_dir(o->path);
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

void
outfile_guard_init(struct outfile_guard *g)
{
	memset(g, 0, sizeof(*g));
}

static int
keep(struct outfile_guard *g, const char *path, const char *suffix,
    const char *what)
{
	size_t len = strlen(path) + strlen(suffix) + 1;
	char *p;

	if (grow((void **)&g->v, &g->cap, g->n + 1, sizeof(*g->v)) != 0)
		return -1;
	if ((p = malloc(len)) == NULL)
		return -1;
	snprintf(p, len, "%s%s", path, suffix);
	g->v[g->n].path = p;
	g->v[g->n].what = what;
	g->v[g->n].side = suffix[0] != '\0';
	g->n++;
	return 0;
}

int
outfile_guard_file(struct outfile_guard *g, const char *path,
    const char *what)
{
	return keep(g, path, "", what);
}

int
outfile_guard_db(struct outfile_guard *g, const char *path, const char *what)
{
	if (keep(g, path, "", what) != 0)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(sidecars); i++)
		if (keep(g, path, sidecars[i], what) != 0)
			return -1;
	return 0;
}

/* Whether path is a file whose first bytes are an SQLite database's. */
static int
is_sqlite(const char *path)
{
	static const char magic[16] = "SQLite format 3";
	char head[sizeof(magic)];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ?
	    read(fd, head, sizeof(head)) : 0;
	close(fd);
	return n == (ssize_t)sizeof(head) &&
	    memcmp(head, magic, sizeof(magic)) == 0;
}

/* Whether path ends in one of SQLite's suffixes after an SQLite file. */
static int
beside_sqlite(const char *path)
{
	char base[PATH_MAX];
	size_t len = strlen(path);

	for (size_t i = 0; i < ARRAY_LEN(sidecars); i++) {
		size_t sl = strlen(sidecars[i]);

		if (len <= sl || len - sl >= sizeof(base) ||
		    strcmp(path + len - sl, sidecars[i]) != 0)
			continue;
		memcpy(base, path, len - sl);
		base[len - sl] = '\0';
		if (is_sqlite(base))
			return 1;
	}
	return 0;
}

/*
 * The holder of a POSIX (fcntl) lock on the regular file at path (a
 * collector's PID file, its log), asked without taking one: its PID, 0
 * when it is not known (another PID namespace, an open file description's
 * lock), -1 none.
 */
static pid_t
lock_holder(const char *path)
{
	struct flock fl;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return -1;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    fcntl(fd, F_GETLK, &fl) != 0)
		fl.l_type = F_UNLCK;
	close(fd);
	/* An open file description's lock has no PID: -1 there. */
	if (fl.l_type == F_UNLCK)
		return -1;
	return fl.l_pid > 0 ? fl.l_pid : 0;
}

int
outfile_guard_check(const struct outfile_guard *g, const char *out,
    char *err, size_t errlen)
{
	for (size_t i = 0; i < g->n; i++) {
		const struct outfile_kept *k = &g->v[i];

		if (!util_same_file(out, k->path))
			continue;
		return util_err(err, errlen, "%s would replace %s, %s%s; refusing "
		    "to write over it", out, k->path, k->side ? "a file SQLite "
		    "keeps beside " : "", k->what);
	}
	return 0;
}

int
outfile_check_target(const char *out, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	struct stat st;
	pid_t holder;

	if (named_fd(out) >= 0)
		return 0;
	if (outfile_tmp_name(out, tmp, sizeof(tmp), err, errlen) != 0)
		return -1;
	if (in_system_dir(out) && (lstat(out, &st) != 0 ||
	    !S_ISCHR(st.st_mode)))
		return util_err(err, errlen, "%s: in /dev or /proc only a "
		    "character device, standard output or standard error is "
		    "written; refusing to write there", out);
	/* What is at the name itself: a link there is replaced, not what it
	   names (outfile_open). */
	if (lstat(out, &st) != 0 || S_ISLNK(st.st_mode) ||
	    S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
		return 0;
	if (S_ISDIR(st.st_mode))
		return util_err(err, errlen, "%s: is a directory", out);
	if (!S_ISREG(st.st_mode))
		return util_err(err, errlen, "%s: not a regular file or a "
		    "character device; refusing to write to it", out);
	if (is_sqlite(out))
		return util_err(err, errlen, "%s is an SQLite database (a gua "
		    "history?); refusing to write over it", out);
	if (beside_sqlite(out))
		return util_err(err, errlen, "%s is a file SQLite keeps beside "
		    "a database; refusing to write over it", out);
	if ((holder = lock_holder(out)) > 0)
		return util_err(err, errlen, "%s is in use (process %ld holds "
		    "a lock on it: a running collector's PID file or log?); "
		    "refusing to write over it", out, (long)holder);
	if (holder == 0)
		return util_err(err, errlen, "%s is in use (a process holds "
		    "a lock on it); refusing to write over it", out);
	return 0;
}

void
outfile_guard_free(struct outfile_guard *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i].path);
	free(g->v);
	memset(g, 0, sizeof(*g));
}
