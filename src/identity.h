/*
 * Who is behind a process: read from /proc/PID by identity_read() when the
 * process still exists. Every string here comes from another user and is
 * untrusted: writers escape it for their destination.
 */
#ifndef GUA_IDENTITY_H
#define GUA_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#define IDENTITY_CMDLINE_MAX	1024	/* longer command lines are cut */

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
};

#endif
