/*
 * Who is behind a process: read from /proc/PID when the process still
 * exists. Every string here comes from another user and is untrusted:
 * writers escape it for their destination.
 *
 * The parsers are pure functions over a buffer, so they can be tested with
 * tables and fuzzed. The cache reads a process's identity once for its
 * life (pid + start time) and forgets processes it no longer sees.
 * Ownership: identity_cache_new allocates, identity_cache_free releases.
 */
#ifndef GUA_IDENTITY_H
#define GUA_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#define IDENTITY_CMDLINE_MAX	1024	/* longer command lines are cut */
/* /proc/PID/loginuid when no login session set it: (uid_t)-1. */
#define IDENTITY_LOGINUID_UNSET	4294967295LL

struct identity {
	int	known;		/* 0: the process was gone from /proc */
	int64_t	uid;		/* owner uid, -1 when unknown */
	char	user[64];	/* login user, else owner, else "uid:N"; "" unknown */
	char	comm[64];	/* kernel command name (comm) */
	char	cmdline[IDENTITY_CMDLINE_MAX]; /* argv joined by spaces, cut */
	char	container[80];	/* docker/containerd/podman id, short form */
	char	pod[64];	/* Kubernetes pod uid */
	char	unit[128];	/* systemd unit */
	char	slurm_job[32];	/* Slurm job ("job_123") */
	/* From the node's pod log directories (identity_pod_names); "" when
	   unknown. Checked to be Kubernetes names, so never a '/' or '"'. */
	char	pod_namespace[64];	/* a DNS label: at most 63 */
	char	pod_name[254];		/* a DNS subdomain: at most 253 */
	char	container_name[64];	/* a DNS label: at most 63 */
};

/* Where kubelet keeps one directory per pod, NAMESPACE_NAME_UID. */
#define IDENTITY_POD_LOG_ROOT	"/var/log/pods"
/* The environment variable that names another root (tests). */
#define IDENTITY_POD_LOG_ENV	"GUA_POD_LOG_ROOT"

/* The fields of /proc/PID/stat that gua uses. */
struct identity_stat {
	char		comm[64];	/* between the first '(' and the last ')' */
	char		state;		/* 'R', 'S', 'Z', ... */
	uint64_t	starttime;	/* field 22: clock ticks after boot */
};

/*
 * /proc/PID/stat: "PID (comm) S ppid ...". comm may hold spaces and ')',
 * so it ends at the last ')'. Returns 0, or -1 when malformed.
 */
int	identity_parse_stat(const char *buf, size_t len,
	    struct identity_stat *out);
/* The real uid from the "Uid:" line of /proc/PID/status; 0 or -1. */
int	identity_parse_status_uid(const char *buf, size_t len, int64_t *uid);
/*
 * /proc/PID/loginuid: a uid, or -1 in *uid when unset (4294967295).
 * Returns 0, or -1 when malformed.
 */
int	identity_parse_loginuid(const char *buf, size_t len, int64_t *uid);
/* The "btime" line of /proc/stat (boot time, seconds since the epoch). */
int	identity_parse_btime(const char *buf, size_t len, int64_t *btime_s);
/*
 * /proc/PID/cmdline: NUL-separated arguments joined by spaces, trailing
 * NULs dropped, cut to fit out on a UTF-8 character boundary.
 */
void	identity_parse_cmdline(const char *buf, size_t len, char *out,
	    size_t outlen);
/*
 * /proc/PID/cgroup ("ID:CONTROLLERS:PATH" lines, cgroup v1 or v2) into
 * out's container, pod, unit and slurm_job (the other fields are left
 * alone; those four are emptied first):
 * - container: the short (12 hex) id of a Docker, containerd, CRI-O or
 *   Podman container: a path component "docker-ID.scope",
 *   "cri-containerd-ID.scope", "crio-ID.scope", "libpod-ID.scope", or a
 *   bare 64-hex ID ("/docker/ID", "/kubepods/.../ID"), also after a ':'
 *   ("...slice:cri-containerd:ID"); conmon scopes are not containers;
 * - pod: the Kubernetes pod UID of a kubepods path, "pod<uid>" or
 *   "kubepods-<qos>-pod<uid>.slice" (underscores become dashes);
 * - unit: the innermost systemd unit, a component ending in ".service"
 *   or ".scope";
 * - slurm_job: Slurm's "job_N" component.
 * The v2 line ("0::") is read first, then v1's name=systemd, then the
 * others; each field takes the first value found, innermost first.
 */
void	identity_parse_cgroup(const char *buf, size_t len,
	    struct identity *out);
/*
 * A pod log directory's name, "NAMESPACE_NAME_UID", when it is that of
 * the pod uid (dashes, as identity_parse_cgroup gives it) and its
 * namespace and name are Kubernetes names (lower-case letters, digits,
 * '-', and '.' in a name): 1 with them in out, else 0.
 */
int	identity_parse_pod_dir(const char *dirname, const char *uid,
	    struct identity *out);
/*
 * The names of out's pod (out->pod) from the pod log directories under
 * root (NULL: $GUA_POD_LOG_ROOT, else IDENTITY_POD_LOG_ROOT): namespace,
 * pod name, and the container name when the pod has one container
 * directory. Silent: nothing is filled when root, the pod or a name is
 * missing or not what kubelet writes. Symbolic links are not followed.
 */
void	identity_pod_names(const char *root, struct identity *out);
/*
 * Makes an identity unknown (known 0, uid -1, every string "") writing
 * only the first byte of each string: an identity is some 1.9 KB, nearly
 * all of it room for text, and a tick clears one per process.
 */
void	identity_clear(struct identity *);
/* Start time in ms since the epoch from boot time and clock ticks. */
int64_t	identity_start_ms(int64_t btime_s, uint64_t starttime, long hz);

struct identity_cache;

/* Reads the boot time once; never fails but for memory. */
int	identity_cache_new(struct identity_cache **, char *err,
	    size_t errlen);
void	identity_cache_free(struct identity_cache *);
/*
 * Starts a tick: asks the pidfds of the known processes, all at once,
 * which have exited since. Call before the tick's lookups.
 */
void	identity_cache_check(struct identity_cache *);
/*
 * The identity of pid now. A process the cache watches and that has not
 * exited costs nothing; otherwise /proc/PID/stat is read (a reused PID is
 * a new process), and the rest only for a process not seen before. A
 * process gone from /proc gives known 0, *start_ms 0 and user "".
 */
void	identity_lookup(struct identity_cache *, uint32_t pid,
	    int64_t *start_ms, struct identity *out);
/*
 * Start bringing what a lookup of pid reads into the CPU's cache, for a
 * loop over a tick's processes: identity_prefetch_key some processes
 * ahead (the map), identity_prefetch_entry fewer ahead (the entry, found
 * through the map by then cached), identity_prefetch_text fewer still
 * (the identity's strings, found through the entry by then cached).
 */
void	identity_prefetch_key(const struct identity_cache *, uint32_t pid);
void	identity_prefetch_entry(const struct identity_cache *, uint32_t pid);
void	identity_prefetch_text(const struct identity_cache *, uint32_t pid);
/*
 * Ends a tick: forgets the processes not looked up since the previous
 * call, so the cache holds at most what one tick saw.
 */
void	identity_cache_sweep(struct identity_cache *);
/* Processes the cache holds (for tests). */
size_t	identity_cache_size(const struct identity_cache *);

#endif
