#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "identity.h"
#include "util.h"

#define STAT_TAIL " 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 " \
	"123456 10000 200 18446744073709551615\n"

static void
test_stat(void)
{
	static const struct {
		const char	*in;
		int		 rc;
		const char	*comm;
		char		 state;
		uint64_t	 start;
	} cases[] = {
		{ "42 (sleep) S" STAT_TAIL, 0, "sleep", 'S', 123456 },
		{ "42 (a b) R" STAT_TAIL, 0, "a b", 'R', 123456 },
		/* comm with ')' and what looks like fields: the last ')' wins */
		{ "42 (x) S 1 2 (y) Z" STAT_TAIL, 0, "x) S 1 2 (y", 'Z',
		    123456 },
		{ "42 ()) Z" STAT_TAIL, 0, ")", 'Z', 123456 },
		{ "42 () S" STAT_TAIL, 0, "", 'S', 123456 },
		/* truncated before field 22 */
		{ "42 (sleep) S 1 1 1 0 -1", -1, NULL, 0, 0 },
		{ "42 sleep S" STAT_TAIL, -1, NULL, 0, 0 },
		{ "42 (sleep S" STAT_TAIL, -1, NULL, 0, 0 },
		{ "", -1, NULL, 0, 0 },
		/* state must be one character, start a number */
		{ "42 (sleep) SS" STAT_TAIL, -1, NULL, 0, 0 },
		{ "42 (s) S 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 "
		    "12x4 1\n", -1, NULL, 0, 0 },
		{ "42 (s) S 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 "
		    "99999999999999999999999 1\n", -1, NULL, 0, 0 },
		/* field 22 last, no newline */
		{ "42 (s) S 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 7",
		    0, "s", 'S', 7 },
	};
	struct identity_stat ps;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = identity_parse_stat(cases[i].in, strlen(cases[i].in),
		    &ps);

		CHECK_INT(rc, cases[i].rc);
		if (rc != 0 || cases[i].rc != 0)
			continue;
		CHECK_STR(ps.comm, cases[i].comm);
		CHECK_INT(ps.state, cases[i].state);
		CHECK_INT(ps.starttime, cases[i].start);
	}
	/* A very long comm is cut to the field, not overflowed. */
	{
		char buf[600];

		memset(buf, 'c', sizeof(buf));
		memcpy(buf, "1 (", 3);
		memcpy(buf + 300, ") S 1 1 1 0 -1 1 1 0 0 0 5 3 0 0 20 0 1 0 9",
		    43);
		CHECK_INT(identity_parse_stat(buf, 343, &ps), 0);
		CHECK_INT(strlen(ps.comm), sizeof(ps.comm) - 1);
		CHECK_INT(ps.starttime, 9);
	}
}

static void
test_status_loginuid_btime(void)
{
	static const char status[] = "Name:\tsleep\nUmask:\t0022\n"
	    "State:\tS (sleeping)\nTgid:\t42\nPid:\t42\nPPid:\t1\n"
	    "Uid:\t1000\t1001\t1002\t1003\nGid:\t100\t100\t100\t100\n";
	static const struct {
		const char	*in;
		int		 rc;
		int64_t		 uid;
	} logins[] = {
		{ "1000", 0, 1000 },
		{ "0\n", 0, 0 },
		{ "4294967295", 0, -1 },
		{ "4294967296", -1, 0 },
		{ "", -1, 0 },
		{ "-1", -1, 0 },
		{ "12a", -1, 0 },
	};
	int64_t v;

	CHECK_INT(identity_parse_status_uid(status, strlen(status), &v), 0);
	CHECK_INT(v, 1000);
	CHECK_INT(identity_parse_status_uid("Gid:\t1\n", 7, &v), -1);
	CHECK_INT(identity_parse_status_uid("Uid:\tx\t1\n", 9, &v), -1);
	CHECK_INT(identity_parse_status_uid("Uid:\t7", 6, &v), 0);
	CHECK_INT(v, 7);
	/* "XUid:" is not the Uid line */
	CHECK_INT(identity_parse_status_uid("XUid:\t5\n", 8, &v), -1);
	for (size_t i = 0; i < sizeof(logins) / sizeof(logins[0]); i++) {
		v = 12345;
		CHECK_INT(identity_parse_loginuid(logins[i].in,
		    strlen(logins[i].in), &v), logins[i].rc);
		if (logins[i].rc == 0)
			CHECK_INT(v, logins[i].uid);
	}
	CHECK_INT(identity_parse_btime("cpu 1 2\nbtime 1764000000\nproc 3\n",
	    32, &v), 0);
	CHECK_INT(v, 1764000000);
	CHECK_INT(identity_parse_btime("btime x\n", 8, &v), -1);
	CHECK_INT(identity_parse_btime("cpu 1\n", 6, &v), -1);
	CHECK_INT(identity_start_ms(1000, 250, 100), 1000 * 1000 + 2500);
	CHECK_INT(identity_start_ms(0, 7, 3), 2333);
}

static void
test_cmdline(void)
{
	static const struct {
		const char	*in;
		size_t		 len;
		size_t		 outlen;
		const char	*want;
	} cases[] = {
		{ "python3\0train.py\0--epochs\0" "90\0", 29, 64,
		    "python3 train.py --epochs 90" },
		{ "sleep\0" "1000", 10, 64, "sleep 1000" },
		{ "", 0, 64, "" },
		{ "\0\0\0", 3, 64, "" },
		/* cut at the buffer: 5 bytes fit */
		{ "abcdefgh", 8, 6, "abcde" },
		/* never half a character: "é" is 2 bytes */
		{ "abcd\xc3\xa9", 6, 6, "abcd" },
		{ "ab\xe2\x82\xac" "cd", 7, 6, "ab\xe2\x82\xac" },
		/* invalid bytes are kept one by one (escaped later) */
		{ "a\xff" "b", 3, 64, "a\xff" "b" },
		/* an embedded NUL inside is a space, not an end */
		{ "a\0\0b", 4, 64, "a  b" },
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		identity_parse_cmdline(cases[i].in, cases[i].len, out,
		    cases[i].outlen);
		CHECK_STR(out, cases[i].want);
	}
}

/* The cache against real processes: this one and a child. */
#define ID64	"3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708"
#define ID12	"3f2a1b4c5d6e"
#define UID_	"1f2e3d4c_5b6a_4789_8abc_def012345678"
#define UIDD	"1f2e3d4c-5b6a-4789-8abc-def012345678"

static void
test_cgroup(void)
{
	static const struct {
		const char	*in;
		const char	*container, *pod, *unit, *job;
	} cases[] = {
		/* Docker, cgroupfs driver, cgroup v1 */
		{ "12:pids:/docker/" ID64 "\n11:memory:/docker/" ID64 "\n"
		  "1:name=systemd:/docker/" ID64 "\n0::/\n",
		  ID12, "", "", "" },
		/* Docker, systemd driver, cgroup v2 */
		{ "0::/system.slice/docker-" ID64 ".scope\n",
		  ID12, "", "docker-" ID64 ".scope", "" },
		/* Kubernetes + containerd, systemd driver, v2 */
		{ "0::/kubepods.slice/kubepods-burstable.slice/"
		  "kubepods-burstable-pod" UID_ ".slice/cri-containerd-" ID64
		  ".scope\n",
		  ID12, UIDD, "cri-containerd-" ID64 ".scope", "" },
		/* Kubernetes, cgroupfs driver, v1 */
		{ "4:memory:/kubepods/besteffort/pod" UIDD "/" ID64 "\n",
		  ID12, UIDD, "", "" },
		/* a guaranteed pod: no QoS slice */
		{ "0::/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-"
		  ID64 ".scope\n", ID12, UIDD, "cri-containerd-" ID64 ".scope",
		  "" },
		/* CRI-O; its conmon scope is not the container */
		{ "0::/kubepods.slice/kubepods-besteffort.slice/"
		  "kubepods-besteffort-pod" UID_ ".slice/crio-" ID64 ".scope\n",
		  ID12, UIDD, "crio-" ID64 ".scope", "" },
		{ "0::/kubepods.slice/kubepods-besteffort.slice/"
		  "kubepods-besteffort-pod" UID_ ".slice/crio-conmon-" ID64
		  ".scope\n", "", UIDD, "crio-conmon-" ID64 ".scope", "" },
		/* containerd's "slice:prefix:id" form under its own service */
		{ "1:name=systemd:/system.slice/containerd.service/"
		  "kubepods-besteffort-pod" UID_ ".slice:cri-containerd:" ID64
		  "\n", ID12, UIDD, "containerd.service", "" },
		/* Podman, rootless, v2 */
		{ "0::/user.slice/user-1000.slice/user@1000.service/user.slice/"
		  "libpod-" ID64 ".scope/container\n",
		  ID12, "", "libpod-" ID64 ".scope", "" },
		/* Slurm, v1 and v2 */
		{ "7:freezer:/slurm/uid_1000/job_4242/step_0/task_0\n"
		  "1:name=systemd:/system.slice/slurmd.service\n0::/\n",
		  "", "", "slurmd.service", "job_4242" },
		{ "0::/system.slice/slurmstepd.scope/job_4242/step_batch/user/"
		  "task_0\n", "", "", "slurmstepd.scope", "job_4242" },
		/* systemd units */
		{ "0::/user.slice/user-1000.slice/session-3.scope\n",
		  "", "", "session-3.scope", "" },
		{ "0::/system.slice/jupyterhub.service\n",
		  "", "", "jupyterhub.service", "" },
		{ "0::/system.slice/a.service/payload\n", "", "", "a.service",
		  "" },
		/* v2 first, then name=systemd, then the rest */
		{ "0::/\n1:name=systemd:/system.slice/foo.service\n",
		  "", "", "foo.service", "" },
		{ "1:name=systemd:/system.slice/a.service\n"
		  "0::/system.slice/b.service\n", "", "", "b.service", "" },
		{ "3:cpu:/system.slice/c.service\n"
		  "1:name=systemd:/system.slice/a.service\n", "", "",
		  "a.service", "" },
		/* no newline at the end */
		{ "0::/system.slice/docker-" ID64 ".scope", ID12, "",
		  "docker-" ID64 ".scope", "" },
		/* nothing, or not quite */
		{ "", "", "", "", "" },
		{ "0::/\n", "", "", "", "" },
		{ "no colons here\n", "", "", "", "" },
		{ ":::\n::\n0::\n", "", "", "", "" },
		{ "0::/docker/" "3F2A1B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E7F80"
		  "91A2B3C4D5E6F708\n", "", "", "", "" },
		{ "0::/docker/" ID64 "0\n", "", "", "", "" },
		{ "0::/docker/" "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80"
		  "91a2b3c4d5e6f70\n", "", "", "", "" },
		{ "0::/x/job_\n0::/x/job_12a\n0::/x/.service\n0::/x/.scope\n",
		  "", "", "", "" },
		/* "pod" outside kubepods, and a pod UID of the wrong size */
		{ "0::/podman/pod" UIDD "\n", "", "", "", "" },
		{ "0::/kubepods/pod1234\n", "", "", "", "" },
		{ "0::/kubepods/burstable/podzzzzzzzz-5b6a-4789-8abc-def012345678"
		  "\n", "", "", "", "" },
	};
	struct identity id;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&id, 'x', sizeof(id));
		id.user[0] = 'u';
		identity_parse_cgroup(cases[i].in, strlen(cases[i].in), &id);
		CHECK_STR(id.container, cases[i].container);
		CHECK_STR(id.pod, cases[i].pod);
		CHECK_STR(id.unit, cases[i].unit);
		CHECK_STR(id.slurm_job, cases[i].job);
		/* The other fields are not touched. */
		CHECK(id.user[0] == 'u' && id.comm[0] == 'x');
	}
	/* A long unit name that does not fit is left out. */
	{
		char buf[512];

		memset(buf, 'a', sizeof(buf));
		memcpy(buf, "0::/", 4);
		memcpy(buf + 400, ".service\n", 9);
		identity_parse_cgroup(buf, 409, &id);
		CHECK_STR(id.unit, "");
	}
}

/* Every field alike, each string compared within its room. */
static int
same_identity(const struct identity *a, const struct identity *b)
{
#define SAME(f)	(strncmp(a->f, b->f, sizeof(a->f)) == 0)
	return a->known == b->known && a->uid == b->uid && SAME(user) &&
	    SAME(comm) && SAME(cmdline) && SAME(container) && SAME(pod) &&
	    SAME(unit) && SAME(slurm_job) && SAME(pod_namespace) &&
	    SAME(pod_name) && SAME(container_name);
#undef SAME
}

static void
test_cache(void)
{
	struct identity_cache *c;
	struct identity id, again;
	int64_t start, start2, child_start;
	pid_t child;
	char err[256];

	CHECK_INT(identity_cache_new(&c, err, sizeof(err)), 0);
	identity_lookup(c, (uint32_t)getpid(), &start, &id);
	CHECK_INT(id.known, 1);
	CHECK_INT(id.uid, (int64_t)getuid());
	CHECK(id.user[0] != '\0');
	CHECK(strstr(id.cmdline, "test-identity") != NULL);
	CHECK_STR(id.comm, "test-identity");
	CHECK(start > 1000000000000LL);	/* after 2001, in ms */
	/* The copy out of the cache is whole: nothing of what the tick's
	   room held before is left in a field. */
	memset(&again, 'x', sizeof(again));
	identity_lookup(c, (uint32_t)getpid(), &start2, &again);
	CHECK_INT(start2, start);
	CHECK(same_identity(&again, &id));
	CHECK_INT(identity_cache_size(c), 1);

	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	identity_lookup(c, (uint32_t)child, &child_start, &id);
	CHECK_INT(id.known, 1);
	CHECK(child_start >= start);
	CHECK_INT(identity_cache_size(c), 2);
	/* Still there at the next tick's check: answered from the cache. */
	identity_cache_check(c);
	identity_lookup(c, (uint32_t)child, &start2, &again);
	CHECK_INT(again.known, 1);
	CHECK_INT(start2, child_start);
	CHECK_INT(identity_cache_size(c), 2);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	/* Gone at the next check: recorded with what is known, identity
	   unknown. */
	identity_cache_check(c);
	identity_lookup(c, (uint32_t)child, &start2, &id);
	CHECK_INT(id.known, 0);
	CHECK_INT(start2, 0);
	CHECK_STR(id.user, "");
	CHECK_INT(id.uid, -1);
	/* Both were seen this tick; after two sweeps without the child only
	   this process stays. */
	identity_cache_sweep(c);
	CHECK_INT(identity_cache_size(c), 2);
	identity_lookup(c, (uint32_t)getpid(), &start2, &id);
	identity_cache_sweep(c);
	CHECK_INT(identity_cache_size(c), 1);
	identity_lookup(c, (uint32_t)getpid(), &start2, &id);
	CHECK_INT(start2, start);
	CHECK_INT(id.known, 1);
	/* The cgroup fields are this process's /proc/self/cgroup's. */
	{
		struct identity want;
		char buf[4096];
		size_t n = 0;
		FILE *f = fopen("/proc/self/cgroup", "r");

		if (f != NULL) {
			n = fread(buf, 1, sizeof(buf), f);
			fclose(f);
		}
		identity_parse_cgroup(buf, n, &want);
		CHECK_STR(id.container, want.container);
		CHECK_STR(id.pod, want.pod);
		CHECK_STR(id.unit, want.unit);
		CHECK_STR(id.slurm_job, want.slurm_job);
	}
	identity_cache_sweep(c);
	identity_cache_sweep(c);
	CHECK_INT(identity_cache_size(c), 0);
	/* PID 0 and an impossible PID do not exist in /proc. */
	identity_lookup(c, 0, &start2, &id);
	CHECK_INT(id.known, 0);
	identity_lookup(c, 4294967295U, &start2, &id);
	CHECK_INT(id.known, 0);
	identity_cache_free(c);
}

#define POD_UID	"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

/* Pod log directory names: what kubelet writes is taken, nothing else. */
static void
test_pod_dir(void)
{
	static const struct {
		const char	*dir;
		int		 ok;
		const char	*ns, *name;
	} cases[] = {
		{ "ml_train-0_" POD_UID, 1, "ml", "train-0" },
		{ "kube-system_coredns-5d78c9869d-x2x9q_" POD_UID, 1,
		    "kube-system", "coredns-5d78c9869d-x2x9q" },
		{ "a_b.c.d_" POD_UID, 1, "a", "b.c.d" },
		/* another pod, a uid cut, no name, no namespace */
		{ "ml_train-0_" POD_UID "0", 0, NULL, NULL },
		{ "ml_train-0_0f1e2d3c", 0, NULL, NULL },
		{ "ml_" POD_UID, 0, NULL, NULL },
		{ "_train_" POD_UID, 0, NULL, NULL },
		{ "ml__" POD_UID, 0, NULL, NULL },
		/* characters no Kubernetes name has */
		{ "ml_Train_" POD_UID, 0, NULL, NULL },
		{ "ml_a\"b_" POD_UID, 0, NULL, NULL },
		{ "ml_a\\nb_" POD_UID, 0, NULL, NULL },
		{ "m.l_a_" POD_UID, 0, NULL, NULL },
		{ "ml_a_b_" POD_UID, 0, NULL, NULL },
		{ "ml_a b_" POD_UID, 0, NULL, NULL },
		{ "ml_\xc3\xa9_" POD_UID, 0, NULL, NULL },
		/* a namespace over 63 characters */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "_x_" POD_UID, 0, NULL, NULL },
	};
	struct identity id;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&id, 0, sizeof(id));
		CHECK_INT(identity_parse_pod_dir(cases[i].dir, POD_UID, &id),
		    cases[i].ok);
		if (!cases[i].ok) {
			CHECK_STR(id.pod_namespace, "");
			continue;
		}
		CHECK_STR(id.pod_namespace, cases[i].ns);
		CHECK_STR(id.pod_name, cases[i].name);
	}
}

static void
mkdir_p(const char *root, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	CHECK_INT(mkdir(path, 0755), 0);
}

/*
 * A fake /var/log/pods: names resolved for a pod of one container, the
 * container left unnamed for a pod of two, nothing for a pod that is not
 * there, a root that is missing, or a pod directory that is a link.
 */
static void
test_pod_names(void)
{
	char root[] = "/tmp/gua-test-pods.XXXXXX", path[512], link[512];
	struct identity id;

	if (mkdtemp(root) == NULL) {
		CHECK(0);
		return;
	}
	mkdir_p(root, "ml_train-0_" POD_UID);
	mkdir_p(root, "ml_train-0_" POD_UID "/worker");
	snprintf(path, sizeof(path), "%s/ml_train-0_" POD_UID "/worker/0.log",
	    root);
	fclose(fopen(path, "w"));
	mkdir_p(root, "web_api_11111111-2222-3333-4444-555555555555");
	mkdir_p(root, "web_api_11111111-2222-3333-4444-555555555555/app");
	mkdir_p(root, "web_api_11111111-2222-3333-4444-555555555555/sidecar");
	snprintf(path, sizeof(path), "%s/ml_train-0_" POD_UID, root);
	snprintf(link, sizeof(link),
	    "%s/evil_link_22222222-2222-3333-4444-555555555555", root);
	CHECK_INT(symlink(path, link), 0);

	memset(&id, 0, sizeof(id));
	util_strlcpy(id.pod, POD_UID, sizeof(id.pod));
	identity_pod_names(root, &id);
	CHECK_STR(id.pod_namespace, "ml");
	CHECK_STR(id.pod_name, "train-0");
	CHECK_STR(id.container_name, "worker");

	util_strlcpy(id.pod, "11111111-2222-3333-4444-555555555555",
	    sizeof(id.pod));
	identity_pod_names(root, &id);
	CHECK_STR(id.pod_namespace, "web");
	CHECK_STR(id.pod_name, "api");
	CHECK_STR(id.container_name, "");

	util_strlcpy(id.pod, "22222222-2222-3333-4444-555555555555",
	    sizeof(id.pod));
	identity_pod_names(root, &id);
	CHECK_STR(id.pod_namespace, "");
	CHECK_STR(id.pod_name, "");

	util_strlcpy(id.pod, "33333333-2222-3333-4444-555555555555",
	    sizeof(id.pod));
	identity_pod_names(root, &id);
	CHECK_STR(id.pod_name, "");

	/* No pod uid, no lookup; no root, nothing. */
	id.pod[0] = '\0';
	identity_pod_names(root, &id);
	CHECK_STR(id.pod_name, "");
	util_strlcpy(id.pod, POD_UID, sizeof(id.pod));
	identity_pod_names("/nonexistent/gua-pods", &id);
	CHECK_STR(id.pod_name, "");

	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	CHECK_INT(system(path), 0);
}

int
main(void)
{
	test_stat();
	test_status_loginuid_btime();
	test_cmdline();
	test_cgroup();
	test_pod_dir();
	test_pod_names();
	test_cache();
	HARNESS_DONE();
}
