/*
 * The collector's log: one line per message, "TIME gua[PID]: text", into a
 * file (reopened on SIGHUP, for logrotate) or onto stderr. Every message
 * is escaped as a whole, so text from NVML or a path stays on one line.
 * One log per process: the state is kept here, as a daemon's log is.
 */
#ifndef GUA_LOG_H
#define GUA_LOG_H

#include <stddef.h>

/*
 * Logs to path (created 0640, appended, never through a link), or to
 * stderr when path is NULL. *created (may be NULL) says whether the file
 * is new. Returns 0, or -1 with err.
 */
int	log_open(const char *path, int *created, char *err, size_t errlen);
/* Opens the same path again (after rotation); stderr stays stderr. */
int	log_reopen(char *err, size_t errlen);
void	log_close(void);
/*
 * Points stderr at the log file too (a background collector has no
 * terminal), so what a library prints, or a sanitizer report, is kept.
 * Kept across log_reopen.
 */
void	log_capture_stderr(void);
/* The descriptor lines go to: the notification hooks' stdout and
   stderr. */
int	log_fileno(void);

void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with "warning: " in front. */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
