/*
 * Identity of a process from /proc/PID. Every file of one process is read
 * through a descriptor of its /proc/PID directory, so all of them describe
 * the same process even if the PID is reused meanwhile (the reads then
 * fail with ESRCH instead of describing the newcomer).
 *
 * A process already known is watched through a pidfd, each registered once
 * in an epoll set: one epoll_wait a tick names those that have exited, so a
 * tick costs neither a /proc read nor a poll of its descriptor for a
 * process that is still the one the cache knows (a poll of every pidfd
 * each tick cost more than the rest of the lookup for a thousand of them).
 * Where a pidfd cannot be had (an old kernel, no descriptor left),
 * /proc/PID/stat is read every tick instead, as before.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "escape.h"
#include "identity.h"
#include "imap.h"
#include "util.h"

#define PROC_STAT_MAX	4096	/* /proc/PID/stat and status: bounded reads */
#define PWBUF_SIZE	16384	/* getpwuid_r's buffer */

/* Finds the next space-separated field at or after *p; NULL at the end. */
static const char *
next_field(const char **p, const char *end, size_t *flen)
{
	const char *s = *p, *e;

	while (s < end && *s == ' ')
		s++;
	if (s >= end || *s == '\n')
		return NULL;
	for (e = s; e < end && *e != ' ' && *e != '\n'; e++)
		;
	*flen = (size_t)(e - s);
	*p = e;
	return s;
}

/* A decimal number of flen digits, no sign; 0 or -1. */
static int
parse_u64(const char *s, size_t flen, uint64_t *out)
{
	uint64_t v = 0;

	if (flen == 0 || flen > 20)
		return -1;
	for (size_t i = 0; i < flen; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int
identity_parse_stat(const char *buf, size_t len, struct identity_stat *out)
{
	const char *end = buf + len, *open, *close = NULL, *p, *f;
	size_t flen, clen;
	uint64_t v;

	memset(out, 0, sizeof(*out));
	open = memchr(buf, '(', len);
	if (open == NULL)
		return -1;
	for (p = open + 1; p < end; p++)
		if (*p == ')')
			close = p;
	if (close == NULL)
		return -1;
	clen = (size_t)(close - open - 1);
	if (clen >= sizeof(out->comm))
		clen = sizeof(out->comm) - 1;
	memcpy(out->comm, open + 1, clen);
	out->comm[clen] = '\0';
	p = close + 1;
	/* Field 3 is the state, field 22 the start time. */
	for (int field = 3; field <= 22; field++) {
		if ((f = next_field(&p, end, &flen)) == NULL)
			return -1;
		if (field == 3) {
			if (flen != 1)
				return -1;
			out->state = f[0];
		} else if (field == 22) {
			if (parse_u64(f, flen, &v) != 0)
				return -1;
			out->starttime = v;
		}
	}
	return 0;
}

/* Finds "key" at the start of a line; returns what follows it, or NULL. */
static const char *
find_line(const char *buf, size_t len, const char *key, const char **eol)
{
	size_t klen = strlen(key);
	const char *p = buf, *end = buf + len, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if ((size_t)(nl - p) >= klen && memcmp(p, key, klen) == 0) {
			*eol = nl;
			return p + klen;
		}
		p = nl + 1;
	}
	return NULL;
}

int
identity_parse_status_uid(const char *buf, size_t len, int64_t *uid)
{
	const char *p, *eol, *f;
	size_t flen;
	uint64_t v;

	if ((p = find_line(buf, len, "Uid:", &eol)) == NULL)
		return -1;
	while (p < eol && (*p == '\t' || *p == ' '))
		p++;
	for (f = p; p < eol && *p >= '0' && *p <= '9'; p++)
		;
	flen = (size_t)(p - f);
	if (parse_u64(f, flen, &v) != 0 || v > 0xffffffffULL ||
	    (p < eol && *p != '\t' && *p != ' '))
		return -1;
	*uid = (int64_t)v;
	return 0;
}

int
identity_parse_loginuid(const char *buf, size_t len, int64_t *uid)
{
	uint64_t v;

	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\0'))
		len--;
	if (parse_u64(buf, len, &v) != 0 || v > 0xffffffffULL)
		return -1;
	*uid = v == (uint64_t)IDENTITY_LOGINUID_UNSET ? -1 : (int64_t)v;
	return 0;
}

int
identity_parse_btime(const char *buf, size_t len, int64_t *btime_s)
{
	const char *p, *eol, *f;
	uint64_t v;

	if ((p = find_line(buf, len, "btime ", &eol)) == NULL)
		return -1;
	for (f = p; p < eol && *p >= '0' && *p <= '9'; p++)
		;
	if (p != eol || parse_u64(f, (size_t)(p - f), &v) != 0 ||
	    v > (uint64_t)INT64_MAX / 1000)
		return -1;
	*btime_s = (int64_t)v;
	return 0;
}

void
identity_parse_cmdline(const char *buf, size_t len, char *out, size_t outlen)
{
	size_t n = 0, i = 0;

	if (outlen == 0)
		return;
	while (len > 0 && buf[len - 1] == '\0')
		len--;
	/* Copy whole UTF-8 characters while they fit; a NUL joins as ' '. */
	while (i < len) {
		unsigned cp;
		size_t clen = escape_utf8_decode((const unsigned char *)buf + i,
		    len - i, &cp);

		if (clen == 0)
			clen = 1;	/* an invalid byte is kept, alone */
		if (n + clen > outlen - 1)
			break;
		for (size_t k = 0; k < clen; k++)
			out[n++] = buf[i + k] == '\0' ? ' ' : buf[i + k];
		i += clen;
	}
	out[n] = '\0';
}

/* n hex digits, lower case, at s. */
static int
is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return 1;
}

static int
has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

static int
has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

#define CONTAINER_ID_LEN	64	/* what runtimes name cgroups with */
#define CONTAINER_SHORT_LEN	12	/* what `docker ps` shows */

/* A container id in one name (a path component, or a part of one between
   ':'): "PREFIX-ID[.scope]" of a known runtime, or a bare ID. */
static int
container_in(const char *s, size_t len, char *out, size_t outlen)
{
	static const char *const prefixes[] = { "docker-", "cri-containerd-",
		"crio-", "libpod-", "containerd-", "" };

	if (has_suffix(s, len, ".scope"))
		len -= 6;
	/* The runtime's monitor, not the container. */
	if (has_prefix(s, len, "crio-conmon-") ||
	    has_prefix(s, len, "libpod-conmon-"))
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(prefixes); i++) {
		size_t plen = strlen(prefixes[i]);

		if (len == plen + CONTAINER_ID_LEN &&
		    has_prefix(s, len, prefixes[i]) &&
		    is_hex(s + plen, CONTAINER_ID_LEN)) {
			size_t n = CONTAINER_SHORT_LEN < outlen - 1 ?
			    CONTAINER_SHORT_LEN : outlen - 1;

			memcpy(out, s + plen, n);
			out[n] = '\0';
			return 1;
		}
	}
	return 0;
}

/* The pod UID of "pod<uid>" or "kubepods[-qos]-pod<uid>.slice". */
static int
pod_in(const char *s, size_t len, char *out, size_t outlen)
{
	const char *p = NULL;
	size_t n;

	if (has_suffix(s, len, ".slice"))
		len -= 6;
	if (has_prefix(s, len, "pod"))
		p = s + 3;
	else if (has_prefix(s, len, "kubepods-"))
		for (size_t i = len; i >= 3 && p == NULL; i--)
			if (memcmp(s + i - 3, "pod", 3) == 0 && i - 3 > 0 &&
			    s[i - 4] == '-')
				p = s + i;
	if (p == NULL)
		return 0;
	n = (size_t)(s + len - p);
	/* A UUID: 32 hex digits, with its four dashes or underscores. */
	if (n < 32 || n > 36 || n >= outlen)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] != '-' && p[i] != '_' && !is_hex(p + i, 1))
			return 0;
	for (size_t i = 0; i < n; i++)
		out[i] = p[i] == '_' ? '-' : p[i];
	out[n] = '\0';
	return 1;
}

/* Slurm's "job_N". */
static int
job_in(const char *s, size_t len, char *out, size_t outlen)
{
	if (!has_prefix(s, len, "job_") || len == 4 || len > 24 ||
	    len >= outlen)
		return 0;
	for (size_t i = 4; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	memcpy(out, s, len);
	out[len] = '\0';
	return 1;
}

/*
 * A systemd unit name: a component ending in ".service" or ".scope", of
 * the characters systemd allows in unit names.
 */
static int
unit_in(const char *s, size_t len, char *out, size_t outlen)
{
	if ((!has_suffix(s, len, ".service") || len == 8) &&
	    (!has_suffix(s, len, ".scope") || len == 6))
		return 0;
	if (len >= outlen)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    strchr(":-_.\\@", s[i]) != NULL) || s[i] == '\0')
			return 0;
	memcpy(out, s, len);
	out[len] = '\0';
	return 1;
}

/* The fields one cgroup path tells, innermost component first. */
static void
cgroup_path(const char *path, size_t len, struct identity *out)
{
	int kube = 0;

	for (size_t i = 0; i + 8 <= len; i++)
		if (memcmp(path + i, "kubepods", 8) == 0 && (i == 0 ||
		    path[i - 1] == '/'))
			kube = 1;
	while (len > 0) {
		const char *c;
		size_t clen, k = len;

		while (k > 0 && path[k - 1] != '/')
			k--;
		c = path + k;
		clen = len - k;
		len = k > 0 ? k - 1 : 0;
		if (clen == 0)
			continue;
		/* Each part of containerd's "POD.slice:cri-containerd:ID",
		   last first (a plain component is one part). */
		for (size_t e = clen; e > 0;) {
			size_t b = e;

			while (b > 0 && c[b - 1] != ':')
				b--;
			if (out->container[0] == '\0')
				container_in(c + b, e - b, out->container,
				    sizeof(out->container));
			if (kube && out->pod[0] == '\0')
				pod_in(c + b, e - b, out->pod, sizeof(out->pod));
			e = b > 0 ? b - 1 : 0;
		}
		if (out->unit[0] == '\0')
			unit_in(c, clen, out->unit, sizeof(out->unit));
		if (out->slurm_job[0] == '\0')
			job_in(c, clen, out->slurm_job, sizeof(out->slurm_job));
	}
}

void
identity_parse_cgroup(const char *buf, size_t len, struct identity *out)
{
	out->container[0] = out->pod[0] = out->unit[0] = '\0';
	out->slurm_job[0] = '\0';
	/* Pass 0: the v2 line; 1: name=systemd; 2: the other controllers. */
	for (int pass = 0; pass < 3; pass++) {
		const char *p = buf, *end = buf + len;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *c1, *c2;
			int which;

			if (nl == NULL)
				nl = end;
			c1 = memchr(p, ':', (size_t)(nl - p));
			c2 = c1 ? memchr(c1 + 1, ':', (size_t)(nl - c1 - 1)) :
			    NULL;
			if (c2 != NULL) {
				if (c1 == p + 1 && p[0] == '0' && c2 == c1 + 1)
					which = 0;
				else if ((size_t)(c2 - c1 - 1) == 12 &&
				    memcmp(c1 + 1, "name=systemd", 12) == 0)
					which = 1;
				else
					which = 2;
				if (which == pass)
					cgroup_path(c2 + 1, (size_t)(nl - c2 - 1),
					    out);
			}
			p = nl + 1;
		}
	}
}

/*
 * A Kubernetes name of at most max characters: lower-case letters,
 * digits and '-' (a DNS label), and '.' too when dots (a DNS subdomain).
 * Kubelet's directory names are built from such names; anything else was
 * not made by it, and is not taken.
 */
static int
kube_name(const char *s, size_t len, size_t max, int dots)
{
	if (len == 0 || len > max)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '-' || (dots && s[i] == '.')))
			return 0;
	return 1;
}

int
identity_parse_pod_dir(const char *dirname, const char *uid,
    struct identity *out)
{
	size_t len = strlen(dirname), ulen = strlen(uid), nslen, nlen;
	const char *us;

	/* NAMESPACE_NAME_UID: neither name has a '_', so the first one ends
	   the namespace and the one before the uid ends the name. */
	if (ulen == 0 || len < ulen + 4 || dirname[len - ulen - 1] != '_' ||
	    memcmp(dirname + len - ulen, uid, ulen) != 0)
		return 0;
	if ((us = memchr(dirname, '_', len)) == NULL)
		return 0;
	nslen = (size_t)(us - dirname);
	nlen = len - ulen - 1 - nslen - 1;
	if (us >= dirname + len - ulen - 1 ||
	    !kube_name(dirname, nslen, sizeof(out->pod_namespace) - 1, 0) ||
	    !kube_name(us + 1, nlen, sizeof(out->pod_name) - 1, 1))
		return 0;
	memcpy(out->pod_namespace, dirname, nslen);
	out->pod_namespace[nslen] = '\0';
	memcpy(out->pod_name, us + 1, nlen);
	out->pod_name[nlen] = '\0';
	return 1;
}

/* The one container directory of a pod's log directory, if one only. */
static void
pod_container(int podfd, struct identity *out)
{
	char name[sizeof(out->container_name)] = "";
	struct dirent *de;
	int n = 0;
	DIR *d;

	if ((d = fdopendir(podfd)) == NULL) {
		close(podfd);
		return;
	}
	while (n < 2 && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		struct stat st;

		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
			continue;
		if (n++ == 0 && kube_name(de->d_name, len, sizeof(name) - 1, 0))
			memcpy(name, de->d_name, len + 1);
	}
	closedir(d);
	if (n == 1)
		util_strlcpy(out->container_name, name,
		    sizeof(out->container_name));
}

void
identity_pod_names(const char *root, struct identity *out)
{
	struct dirent *de;
	int rootfd, podfd;
	DIR *d;

	out->pod_namespace[0] = out->pod_name[0] = '\0';
	out->container_name[0] = '\0';
	if (out->pod[0] == '\0')
		return;
	if (root == NULL && ((root = getenv(IDENTITY_POD_LOG_ENV)) == NULL ||
	    root[0] == '\0'))
		root = IDENTITY_POD_LOG_ROOT;
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return;
	if ((d = fdopendir(rootfd)) == NULL) {
		close(rootfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct identity names;

		if (!identity_parse_pod_dir(de->d_name, out->pod, &names))
			continue;
		podfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC | O_NOFOLLOW);
		if (podfd < 0)
			continue;
		util_strlcpy(out->pod_namespace, names.pod_namespace,
		    sizeof(out->pod_namespace));
		util_strlcpy(out->pod_name, names.pod_name,
		    sizeof(out->pod_name));
		pod_container(podfd, out);
		break;
	}
	closedir(d);
}

int64_t
identity_start_ms(int64_t btime_s, uint64_t starttime, long hz)
{
	if (hz <= 0)
		hz = 100;
	return btime_s * 1000 + (int64_t)(starttime / (uint64_t)hz) * 1000 +
	    (int64_t)(starttime % (uint64_t)hz) * 1000 / hz;
}

/*
 * One process the cache knows. Its identity is kept packed: a struct
 * identity is 1.9 KB of room, nearly all of it unused, and a thousand of
 * them read every tick pushed the rest of a tick out of the CPU's cache.
 */
struct identity_entry {
	uint32_t	pid;
	uint64_t	starttime;	/* with pid, the key */
	int64_t		start_ms;
	unsigned	gen;		/* sweep generation it was last seen in */
	int		pidfd;		/* watches this very process; -1 none */
	int		exited;		/* its pidfd said so: for good */
	int64_t		uid;		/* the identity's uid */
	char		comm[64];	/* its comm, which can change */
	char		*text;		/* its other strings, each ended by a
					   NUL, in the order of pack_identity;
					   owned */
};

struct identity_cache {
	int64_t			 btime_s;	/* boot time, read once */
	long			 hz;		/* clock ticks per second */
	unsigned		 gen;		/* current generation */
	struct identity_entry	*v;
	size_t			 len, cap;
	struct imap		 index;		/* (pid, starttime) -> v index */
	struct imap		 by_pid;	/* (pid, 0) -> newest v index */
	int			 epfd;		/* the pidfds' epoll set; -1 none */
	struct epoll_event	*events;	/* identity_cache_check's array */
	size_t			 events_cap;
	int			 unchecked;	/* the last check failed: every
						   process is read again */
	size_t			 npidfds;	/* pidfds open now */
	size_t			 max_pidfds;	/* at most: half the fd limit */
	char			*pwbuf;		/* for getpwuid_r */
	/* The last user name looked up, kept for the tick it was looked up
	   in: a tick of a thousand new processes of one user reads the
	   password database once, and a renamed user shows at the next. */
	int			 pw_known;
	unsigned		 pw_gen;
	int64_t			 pw_uid;
	char			 pw_name[64];
};

/*
 * Reads at most cap bytes of name under dirfd (AT_FDCWD: name is a path);
 * returns the length or -1.
 */
static ssize_t
read_at(int dirfd, const char *name, char *buf, size_t cap, int one_read)
{
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -1;
	while (got < cap) {
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		/* stat is produced whole by one read: a short read is its end,
		   and the read that would return 0 is saved. */
		if (one_read)
			break;
	}
	close(fd);
	return (ssize_t)got;
}

int
identity_cache_new(struct identity_cache **out, char *err, size_t errlen)
{
	struct identity_cache *c = calloc(1, sizeof(*c));
	char *line = NULL;
	size_t cap = 0;
	struct rlimit rl;
	ssize_t n;
	FILE *f;

	*out = NULL;
	if (c == NULL || (c->pwbuf = malloc(PWBUF_SIZE)) == NULL) {
		free(c);
		return util_err(err, errlen, "out of memory");
	}
	c->hz = sysconf(_SC_CLK_TCK);
	/* Without the set, no process is watched: each is read every tick. */
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	/*
	 * A pidfd per watched process must never use up the descriptors
	 * the store, the log and the /proc reads need: past half the limit,
	 * processes are read from /proc every tick instead.
	 */
	c->max_pidfds = 512;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		c->max_pidfds = (size_t)rl.rlim_cur / 2;
	/*
	 * btime can wobble by a second between reads on some kernels; read
	 * once so a process keeps one start time for the collector's life.
	 * Without it start times count from boot, still unique per process.
	 * /proc/stat's interrupt line can be long: read it line by line.
	 */
	if ((f = fopen("/proc/stat", "re")) != NULL) {
		while ((n = getline(&line, &cap, f)) > 0)
			if (identity_parse_btime(line, (size_t)n,
			    &c->btime_s) == 0)
				break;
		free(line);
		fclose(f);
	}
	*out = c;
	return 0;
}

void
identity_cache_free(struct identity_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->len; i++) {
		if (c->v[i].pidfd >= 0)
			close(c->v[i].pidfd);
		free(c->v[i].text);
	}
	if (c->epfd >= 0)
		close(c->epfd);
	imap_free(&c->index);
	imap_free(&c->by_pid);
	free(c->events);
	free(c->v);
	free(c->pwbuf);
	free(c);
}

/* User name of uid from the password database, else "uid:N". */
static void
user_name(struct identity_cache *c, int64_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;

	if (c->pw_known && c->pw_gen == c->gen && c->pw_uid == uid) {
		util_strlcpy(buf, c->pw_name, len);
		return;
	}
	if (getpwuid_r((uid_t)uid, &pw, c->pwbuf, PWBUF_SIZE, &res) == 0 &&
	    res != NULL && res->pw_name != NULL && res->pw_name[0] != '\0')
		util_strlcpy(c->pw_name, res->pw_name, sizeof(c->pw_name));
	else
		snprintf(c->pw_name, sizeof(c->pw_name), "uid:%lld",
		    (long long)uid);
	c->pw_known = 1;
	c->pw_gen = c->gen;
	c->pw_uid = uid;
	util_strlcpy(buf, c->pw_name, len);
}

/* Reads what does not change over a process's life: uid, user, cmdline. */
static void
read_identity(struct identity_cache *c, int dirfd,
    const struct identity_stat *ps, struct identity *id)
{
	char buf[PROC_STAT_MAX];
	int64_t uid = -1, login = -1;
	ssize_t n;

	memset(id, 0, sizeof(*id));
	id->known = 1;
	id->uid = -1;
	util_strlcpy(id->comm, ps->comm, sizeof(id->comm));
	if ((n = read_at(dirfd, "status", buf, sizeof(buf), 0)) > 0 &&
	    identity_parse_status_uid(buf, (size_t)n, &uid) == 0)
		id->uid = uid;
	if ((n = read_at(dirfd, "loginuid", buf, 32, 0)) > 0)
		identity_parse_loginuid(buf, (size_t)n, &login);
	if (login >= 0)
		user_name(c, login, id->user, sizeof(id->user));
	else if (uid >= 0)
		user_name(c, uid, id->user, sizeof(id->user));
	/* Three bytes more than fits: a character that straddles the cut
	   arrives whole, so the parser cuts before it instead of keeping
	   its first bytes as if they were invalid text. */
	if ((n = read_at(dirfd, "cmdline", buf, IDENTITY_CMDLINE_MAX + 3,
	    0)) > 0)
		identity_parse_cmdline(buf, (size_t)n, id->cmdline,
		    sizeof(id->cmdline));
	/* A cut last line could hold a cut name: only whole lines count. */
	if ((n = read_at(dirfd, "cgroup", buf, sizeof(buf), 0)) > 0) {
		if ((size_t)n == sizeof(buf))
			while (n > 0 && buf[n - 1] != '\n')
				n--;
		identity_parse_cgroup(buf, (size_t)n, id);
	}
	/* A pod's names, once for the process's life like the rest. */
	identity_pod_names(NULL, id);
}

void
identity_clear(struct identity *id)
{
	id->known = 0;
	id->uid = -1;
	id->user[0] = id->comm[0] = id->cmdline[0] = id->container[0] = '\0';
	id->pod[0] = id->unit[0] = id->slurm_job[0] = '\0';
	id->pod_namespace[0] = id->pod_name[0] = id->container_name[0] = '\0';
}

/*
 * The strings of an identity but comm, in the order they are packed:
 * packing and unpacking walk the same table.
 */
static const size_t packed_at[] = {
	offsetof(struct identity, user),
	offsetof(struct identity, cmdline),
	offsetof(struct identity, container),
	offsetof(struct identity, pod),
	offsetof(struct identity, unit),
	offsetof(struct identity, slurm_job),
	offsetof(struct identity, pod_namespace),
	offsetof(struct identity, pod_name),
	offsetof(struct identity, container_name),
};
static const size_t packed_size[] = {
	sizeof(((struct identity *)0)->user),
	sizeof(((struct identity *)0)->cmdline),
	sizeof(((struct identity *)0)->container),
	sizeof(((struct identity *)0)->pod),
	sizeof(((struct identity *)0)->unit),
	sizeof(((struct identity *)0)->slurm_job),
	sizeof(((struct identity *)0)->pod_namespace),
	sizeof(((struct identity *)0)->pod_name),
	sizeof(((struct identity *)0)->container_name),
};

/* An identity read whole into e: 0, or -1 out of memory. */
static int
pack_identity(struct identity_entry *e, const struct identity *id)
{
	const char *base = (const char *)id;
	size_t len[sizeof(packed_at) / sizeof(packed_at[0])], total = 0;
	char *p;

	for (size_t i = 0; i < sizeof(packed_at) / sizeof(packed_at[0]); i++) {
		len[i] = strnlen(base + packed_at[i], packed_size[i] - 1);
		total += len[i] + 1;
	}
	if ((p = malloc(total)) == NULL)
		return -1;
	e->text = p;
	for (size_t i = 0; i < sizeof(packed_at) / sizeof(packed_at[0]); i++) {
		memcpy(p, base + packed_at[i], len[i]);
		p[len[i]] = '\0';
		p += len[i] + 1;
	}
	e->uid = id->uid;
	util_strlcpy(e->comm, id->comm, sizeof(e->comm));
	return 0;
}

/*
 * A lookup's copy into the tick: each string up to its end, not the
 * whole 1.9 KB of room (the copy of the whole struct per process of a
 * tick was a tenth of a collector's CPU among a thousand processes).
 */
static void
unpack_identity(struct identity *out, const struct identity_entry *e)
{
	char *base = (char *)out;
	const char *p = e->text;
	size_t n;

	out->known = 1;
	out->uid = e->uid;
	n = strnlen(e->comm, sizeof(e->comm) - 1);
	memcpy(out->comm, e->comm, n);
	out->comm[n] = '\0';
	for (size_t i = 0; i < sizeof(packed_at) / sizeof(packed_at[0]); i++) {
		n = strlen(p);
		memcpy(base + packed_at[i], p, n + 1);
		p += n + 1;
	}
}

static void
gone(int64_t *start_ms, struct identity *out)
{
	identity_clear(out);
	*start_ms = 0;
}

/*
 * An event's data: the pidfd and the PID it watches, so that the event of
 * an older process of a reused PID is not taken for the newest's.
 */
static uint64_t
event_data(int fd, uint32_t pid)
{
	return (uint64_t)(uint32_t)fd << 32 | pid;
}

void
identity_cache_check(struct identity_cache *c)
{
	struct identity_entry *e;
	int64_t at;
	int n;

	c->unchecked = 0;
	if (c->npidfds == 0)
		return;
	if (c->npidfds > c->events_cap) {
		struct epoll_event *ne = realloc(c->events,
		    c->npidfds * sizeof(*ne));

		if (ne == NULL) {
			c->unchecked = 1;
			return;
		}
		c->events = ne;
		c->events_cap = c->npidfds;
	}
	/* Level-triggered: an exited process is named at every check until
	   its pidfd is closed, so none is missed past the array's end. */
	n = epoll_wait(c->epfd, c->events, (int)c->npidfds, 0);
	if (n < 0) {
		c->unchecked = 1;
		return;
	}
	for (int i = 0; i < n; i++) {
		uint64_t d = c->events[i].data.u64;
		uint32_t pid = (uint32_t)d;

		if (imap_get(&c->by_pid, pid, 0, &at) != 0)
			continue;
		e = &c->v[at];
		if (e->pidfd >= 0 && event_data(e->pidfd, pid) == d)
			e->exited = 1;
	}
}

/*
 * A pidfd for pid, or -1 when none can be had. It is not yet known to be
 * the process the caller's handle on /proc/PID is: the caller's next read
 * through that handle confirms it, as such a read fails once its process
 * is gone, so a PID reused in between cannot slip in.
 */
static int
pidfd_of(const struct identity_cache *c, uint32_t pid)
{
	if (c->epfd < 0 || c->npidfds >= c->max_pidfds)
		return -1;
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

/* A confirmed pidfd into the epoll set: fd, or -1 (then closed). */
static int
watch(struct identity_cache *c, uint32_t pid, int fd)
{
	struct epoll_event ev;

	if (fd < 0)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = event_data(fd, pid);
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		return -1;
	}
	c->npidfds++;
	return fd;
}

/* Closes an entry's pidfd, if it has one. */
static void
unwatch(struct identity_cache *c, struct identity_entry *e)
{
	if (e->pidfd < 0)
		return;
	close(e->pidfd);
	e->pidfd = -1;
	c->npidfds--;
}

/*
 * A process the cache has no entry for: a pidfd first, then its stat
 * through one handle on its directory (which confirms the pidfd is this
 * process's), then its other files through the same handle, so they all
 * belong to the process whose start time is kept. Three reads of its stat
 * before (one by path, one through the handle, one to confirm the pidfd)
 * were a third of a collector's start among a thousand processes. Sets
 * *ps; the entry (an existing one if the stat names a process the cache
 * knows after all), or NULL when the process is gone or out of memory.
 */
static struct identity_entry *
add_process(struct identity_cache *c, uint32_t pid, struct identity_stat *ps)
{
	struct identity_entry *e, *nv;
	struct identity id;
	char path[32], buf[PROC_STAT_MAX];
	int64_t at;
	ssize_t n;
	int dirfd, fd;

	snprintf(path, sizeof(path), "/proc/%u", pid);
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dirfd < 0)
		return NULL;
	fd = pidfd_of(c, pid);
	n = read_at(dirfd, "stat", buf, sizeof(buf) - 1, 1);
	if (n <= 0 || identity_parse_stat(buf, (size_t)n, ps) != 0)
		goto fail;
	if (imap_get(&c->index, pid, (int64_t)ps->starttime, &at) == 0) {
		if (fd >= 0)
			close(fd);
		close(dirfd);
		return &c->v[at];
	}
	if (c->len == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;

		if ((nv = realloc(c->v, ncap * sizeof(*nv))) == NULL)
			goto fail;
		c->v = nv;
		c->cap = ncap;
	}
	read_identity(c, dirfd, ps, &id);
	e = &c->v[c->len];
	if (pack_identity(e, &id) != 0)
		goto fail;
	if (imap_put(&c->index, pid, (int64_t)ps->starttime,
	    (int64_t)c->len) != 0) {
		free(e->text);
		goto fail;
	}
	c->len++;
	e->pid = pid;
	e->starttime = ps->starttime;
	e->start_ms = identity_start_ms(c->btime_s, ps->starttime, c->hz);
	e->exited = 0;
	e->pidfd = watch(c, pid, fd);
	close(dirfd);
	/* The newest process of a PID is the one looked up by PID. */
	if (imap_put(&c->by_pid, pid, 0, (int64_t)(e - c->v)) != 0)
		unwatch(c, e);
	return e;
fail:
	if (fd >= 0)
		close(fd);
	close(dirfd);
	return NULL;
}

void
identity_lookup(struct identity_cache *c, uint32_t pid, int64_t *start_ms,
    struct identity *out)
{
	struct identity_entry *e = NULL;
	struct identity_stat ps;
	char path[32], buf[PROC_STAT_MAX];
	int64_t at;
	ssize_t n;
	int known = imap_get(&c->by_pid, pid, 0, &at) == 0;

	/* The process the cache watches under this PID is still alive. */
	if (known && !c->unchecked && c->v[at].pidfd >= 0 &&
	    !c->v[at].exited) {
		e = &c->v[at];
		e->gen = c->gen;
		*start_ms = e->start_ms;
		unpack_identity(out, e);
		return;
	}

	/*
	 * A PID the cache knows but does not watch (or whose process exited)
	 * has its stat read every tick, for its start time (a reused PID is a
	 * new process) and its comm: one open, one read, one close, the whole
	 * cost of a process already known.
	 */
	if (known) {
		snprintf(path, sizeof(path), "/proc/%u/stat", pid);
		n = read_at(AT_FDCWD, path, buf, sizeof(buf) - 1, 1);
		if (n <= 0 || identity_parse_stat(buf, (size_t)n, &ps) != 0) {
			gone(start_ms, out);
			return;
		}
		if (imap_get(&c->index, pid, (int64_t)ps.starttime, &at) == 0)
			e = &c->v[at];
	}
	if (e == NULL && (e = add_process(c, pid, &ps)) == NULL) {
		gone(start_ms, out);
		return;
	}
	e->gen = c->gen;
	/* comm can change (prctl); the rest is fixed for a process's life. */
	util_strlcpy(e->comm, ps.comm, sizeof(e->comm));
	*start_ms = e->start_ms;
	unpack_identity(out, e);
}

void
identity_prefetch_key(const struct identity_cache *c, uint32_t pid)
{
	imap_prefetch(&c->by_pid, pid, 0);
}

void
identity_prefetch_entry(const struct identity_cache *c, uint32_t pid)
{
#if defined(__GNUC__) || defined(__clang__)
	const struct identity_entry *e;
	int64_t at;

	/* The entry's lines, whichever it straddles. */
	if (imap_get(&c->by_pid, pid, 0, &at) == 0) {
		e = &c->v[at];
		__builtin_prefetch(e);
		__builtin_prefetch((const char *)e + 64);
		__builtin_prefetch((const char *)(e + 1) - 1);
	}
#else
	(void)c;
	(void)pid;
#endif
}

void
identity_prefetch_text(const struct identity_cache *c, uint32_t pid)
{
#if defined(__GNUC__) || defined(__clang__)
	int64_t at;

	/* The entry is cached by now: its packed strings are what is left. */
	if (imap_get(&c->by_pid, pid, 0, &at) == 0)
		__builtin_prefetch(c->v[at].text);
#else
	(void)c;
	(void)pid;
#endif
}

void
identity_cache_sweep(struct identity_cache *c)
{
	size_t keep = 0;

	imap_clear(&c->index);
	imap_clear(&c->by_pid);
	for (size_t i = 0; i < c->len; i++) {
		struct identity_entry *e = &c->v[i];

		if (e->gen != c->gen) {
			unwatch(c, e);
			free(e->text);
			continue;
		}
		if (keep != i)
			c->v[keep] = *e;
		e = &c->v[keep];
		/* The maps were just emptied, so these only fail to grow: then
		   the entry is read again next time, which is harmless. */
		if (imap_put(&c->index, e->pid, (int64_t)e->starttime,
		    (int64_t)keep) == 0 &&
		    imap_put(&c->by_pid, e->pid, 0, (int64_t)keep) == 0) {
			keep++;
		} else {
			unwatch(c, e);
			free(e->text);
		}
	}
	c->len = keep;
	c->gen++;
}

size_t
identity_cache_size(const struct identity_cache *c)
{
	return c->len;
}
