/*
 * Notification hooks: when a process's idle-held streak (streak.h)
 * reaches --notify-after, the collector runs --notify-exec's program
 * once, and again every --notify-repeat while the streak lasts.
 *
 * A hook runs directly (fork and execve, no shell), as the collector's
 * user, in a process group of its own, in /, with stdin /dev/null, stdout
 * and stderr on the collector's log, no other descriptor, the default
 * signal mask and dispositions, and an environment of its own: the GUA_*
 * variables that describe the streak (gua(1), NOTIFICATIONS), and from
 * the collector's environment only PATH, HOME, TMPDIR, TZ, the locale and
 * GUA_HOOK_* (settings for the hook). It is never waited for: the
 * collector reaps it whenever it wakes (SIGCHLD wakes it; cmd-daemon.c
 * opens it in the loop's mask), sends SIGTERM to its group after
 * NOTIFY_TIMEOUT_MS and SIGKILL NOTIFY_KILL_MS later. At most
 * NOTIFY_MAX_RUNNING run at once; a hook due while that many run is
 * skipped at that tick and due again at the next. Failures (a status
 * other than 0, a signal, a timeout, a program that cannot be run) are
 * logged once per burst: the first, then nothing until a hook succeeds.
 *
 * Ownership: notify_new allocates, notify_close ends the hooks still
 * running and frees.
 */
#ifndef GUA_NOTIFY_H
#define GUA_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "streak.h"

#define NOTIFY_MAX_RUNNING	4
#define NOTIFY_TIMEOUT_MS	10000
#define NOTIFY_KILL_MS		2000	/* after the SIGTERM */

struct notify_config {
	const char	*exec;		/* absolute path of the program */
	int64_t		 after_ms;	/* streak length of the first run */
	int64_t		 repeat_ms;	/* then every this much; 0 never */
};

struct notify;

/* Copies what it needs of cfg. Returns 0, or -1 out of memory. */
int	notify_new(struct notify **, const struct notify_config *,
	    char *err, size_t errlen);
/* Runs the hooks that are due for the current streaks. */
void	notify_run(struct notify *, struct streaks *);
/*
 * Reaps the hooks that ended and signals those past their time; never
 * blocks. Call whenever the collector wakes.
 */
void	notify_reap(struct notify *);
/* The monotonic ms by which notify_reap must be called next (to end a
   hook on time), or INT64_MAX. */
int64_t	notify_deadline(const struct notify *);
/* Kills the hooks still running (SIGKILL to their groups), reaps them
   and frees. NULL is a no-op. */
void	notify_close(struct notify *);

#endif
