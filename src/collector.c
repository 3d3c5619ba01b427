/*
 * The collector engine (collector.h): the ring of ticks waiting to be
 * written, sampling and writing with retries, a database followed when it
 * is deleted or replaced, the textfile's pace, and the loop of ticks and
 * polls on monotonic deadlines.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "collector.h"
#include "duration.h"
#include "export-prom.h"
#include "http-metrics.h"
#include "log.h"
#include "notify.h"
#include "report.h"
#include "store.h"
#include "streak.h"
#include "tick-print.h"
#include "util.h"
#include "version.h"

/*
 * Ticks sampled but not yet written wait in memory, at most this many
 * and this many bytes (a tick of 1000 processes takes 1.9 MB): a
 * database locked by another process, or a full disk, delays them, and
 * the next write that succeeds takes them all in one transaction. Past
 * that the oldest give way (a gap). The ring has one slot more, for the
 * tick being sampled while as many wait.
 */
#define PENDING_MAX		64
#define PENDING_BYTES		(8 * 1024 * 1024)
#define RING_SLOTS		(PENDING_MAX + 1)
/* The longest a write waits for another process's lock. */
#define BUSY_MAX_MS		5000
/* Free pages given back after each step of compaction: 1 MB at 8 KiB. */
#define COMPACT_PAGES		128

/* What the running collector holds. */
struct collector {
	const struct collector_config *a;
	const struct source *source;
	volatile sig_atomic_t *stop;	/* collector_run's flags */
	volatile sig_atomic_t *hup;
	int		 db_lock;	/* flock'ed descriptor of the database */
	int		 db_created;	/* this run created the database */
	struct store	*st;
	void		*src;		/* source context */
	struct tick	 pend[RING_SLOTS]; /* a ring of ticks to write */
	size_t		 pend_first;	/* the oldest of them */
	size_t		 npend;		/* how many */
	int64_t		 dropped;	/* gave way in the current burst */
	int64_t		 prev_mono;	/* monotonic ms of the last sampled tick */
	int64_t		 ticks;		/* written by this run */
	int64_t		 failed;	/* consecutive ticks not written */
	int64_t		 unsampled;	/* ... of them not even sampled */
	struct export_prom *prom;	/* --textfile-dir or --listen, or NULL */
	struct http_metrics *http;	/* --listen, or NULL */
	int64_t		 prom_failed;	/* consecutive textfiles not written */
	struct thresholds thr;		/* of the textfile's counters */
	struct streaks	*streaks;	/* for the textfile and hooks, or NULL */
	struct notify	*notify;	/* --notify-exec, or NULL */
	int		 streaks_failed; /* the last tick could not be added */
	struct source_info info;	/* for a database made anew */
	/*
	 * The files written, as they were when opened: the database (the
	 * flock'ed descriptor's), and the WAL and its index beside it, so
	 * that a database deleted or replaced under the collector is seen,
	 * and only files that are its own are removed with it.
	 */
	struct stat	 db_st;
	struct stat	 side_st[2];
	int		 side_known[2];
	int64_t		 renewed_ms;	/* when a new database was taken up */
	/* --keep-raw: when the next step of compaction is due (monotonic
	   ms), and what the steps since the last line logged did. */
	int64_t		 compact_next;
	int64_t		 compact_hours;
	int64_t		 compact_worst_us;
	int		 compact_failing;	/* logged once until it works */
	int64_t		 compact_last_ms;	/* how long the last step took */
	int64_t		 compact_squeezed;	/* since when no step fitted */
};

/* The files SQLite keeps beside the database while it writes. */
static const char *const side_suffix[2] = { "-wal", "-shm" };

static int	open_store(struct collector *, const struct source_info *,
		    char *, size_t);
static void	release(struct collector *, int);

/*
 * The longest a write waits for a lock held by another process: half an
 * interval, so a tick that cannot be written waits in memory and
 * sampling keeps its pace, where SQLite's usual 5 s would stall it.
 */
static int
busy_ms(const struct collector_config *a)
{
	int64_t ms = a->interval_ms / 2;

	return (int)(ms < 1 ? 1 : ms > BUSY_MAX_MS ? BUSY_MAX_MS : ms);
}

static void
source_log(void *arg, const char *msg)
{
	(void)arg;
	log_info("%s", msg);
}

/* An exclusive flock on the database: one collector per file. */
static int
lock_db(struct collector *co, char *err, size_t errlen)
{
	const char *db = co->a->db;

	co->db_lock = open(db, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK);
	if (co->db_lock < 0 && errno == ELOOP)
		return util_err(err, errlen, "%s: is a symbolic link; refusing "
		    "to write through it", db);
	if (co->db_lock < 0)
		return util_err(err, errlen, "%s: %s", db, strerror(errno));
	if (flock(co->db_lock, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		close(co->db_lock);
		co->db_lock = -1;
		if (e == EWOULDBLOCK)
			return util_err(err, errlen, "%s: another collector is "
			    "writing this database", db);
		return util_err(err, errlen, "%s: cannot lock: %s", db,
		    strerror(e));
	}
	return 0;
}

/*
 * --append on an existing file: a gua database recorded on this host,
 * without damage where the collector would carry on. 0, -1, or
 * STORE_NOT_GUA for a file that is no gua database.
 */
static int
check_append(const char *db, char *err, size_t errlen)
{
	struct store *st;
	char host[256];
	int rc;

	if ((rc = store_open_read(&st, db, err, errlen)) != 0)
		return rc;
	if ((rc = store_check_writable(db, err, errlen)) != 0) {
		store_close(st);
		return rc;
	}
	util_hostname(host, sizeof(host));
	if (strcmp(store_meta(st)->hostname, host) != 0) {
		util_err(err, errlen, "%s: recorded on host '%s', not on this "
		    "host ('%s'); refusing to append to it", db,
		    store_meta(st)->hostname, host);
		store_close(st);
		return -1;
	}
	/* Ticks added to a damaged file would be as hard to read. */
	if (store_check_damage(st, err, errlen) != 0) {
		size_t len = strlen(err);

		snprintf(err + len, errlen - len, "; refusing to append");
		store_close(st);
		return -1;
	}
	store_close(st);
	return 0;
}

/* Removes a database this run created, with its sidecars. */
static void
remove_db(const char *db)
{
	char side[PATH_MAX + 8];

	unlink(db);
	snprintf(side, sizeof(side), "%s-wal", db);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", db);
	unlink(side);
}

/* The i-th oldest tick waiting to be written. */
static struct tick *
pending(struct collector *co, size_t i)
{
	return &co->pend[(co->pend_first + i) % RING_SLOTS];
}

/* The memory a tick holds. */
static size_t
tick_bytes(const struct tick *t)
{
	size_t n = t->gpus_cap * sizeof(struct tick_gpu);

	for (size_t i = 0; i < t->gpus_cap; i++)
		n += t->gpus[i].procs_cap * sizeof(struct tick_proc);
	return n;
}

/* The oldest waiting tick gives way, and its memory goes with it. */
static void
drop_oldest(struct collector *co)
{
	tick_free(pending(co, 0));
	co->pend_first = (co->pend_first + 1) % RING_SLOTS;
	co->npend--;
	co->dropped++;
}

/*
 * Samples one tick into the ring of ticks to write; once it is sampled,
 * the oldest waiting ticks give way if there are too many. Its span is
 * the time since the previous tick sampled (up to the cap), so ticks that
 * wait keep their own time. A tick that could not be sampled is a gap.
 */
static int
sample_tick(struct collector *co, int64_t mono, char *err, size_t errlen)
{
	const struct collector_config *a = co->a;
	int64_t span, now = util_now_ms();
	size_t bytes = 0;
	struct tick *t;

	t = pending(co, co->npend);
	tick_reset(t);
	if (co->source->sample(co->src, t, err, errlen) != 0) {
		co->prev_mono = mono;
		return -1;
	}
	for (size_t i = 0; i <= co->npend; i++)
		bytes += tick_bytes(pending(co, i));
	while (co->npend > 0 && (co->npend >= PENDING_MAX ||
	    bytes > PENDING_BYTES)) {
		bytes -= tick_bytes(pending(co, 0));
		drop_oldest(co);
	}
	t = pending(co, co->npend);
	span = co->prev_mono < 0 ? a->interval_ms : mono - co->prev_mono;
	if (span > 2 * a->interval_ms)
		span = 2 * a->interval_ms;
	if (span < 1)
		span = 1;
	/*
	 * The wall clock as it is, even when it stepped back: the span comes
	 * from the monotonic clock, and the store takes ticks in any order;
	 * stamping them after the last one instead would pile an hour of
	 * ticks onto one instant after a one-hour step back.
	 */
	t->ts_ms = now;
	t->span_ms = span;
	co->prev_mono = mono;
	co->npend++;
	return 0;
}

/* Remembers the files just opened and says so in the PID file. */
static int
note_db(struct collector *co, char *err, size_t errlen)
{
	const struct collector_config *a = co->a;
	struct pidfile_data pd;
	char side[PATH_MAX + 8];

	if (fstat(co->db_lock, &co->db_st) != 0)
		return util_err(err, errlen, "%s: %s", a->db, strerror(errno));
	for (int i = 0; i < 2; i++) {
		snprintf(side, sizeof(side), "%s%s", a->db, side_suffix[i]);
		co->side_known[i] = lstat(side, &co->side_st[i]) == 0;
	}
	memset(&pd, 0, sizeof(pd));
	pd.pid = getpid();
	pd.db = a->db;
	pd.log = a->log_file;
	pd.db_dev = (unsigned long long)co->db_st.st_dev;
	pd.db_ino = (unsigned long long)co->db_st.st_ino;
	pd.db_renewed_ms = co->renewed_ms;
	return pidfile_write(co->a->pid, &pd, err, errlen);
}

/*
 * Whether the database file is gone from under the collector: unlinked
 * (no name left) or its path now names another file. One fstat and one
 * lstat a tick.
 */
static int
db_gone(struct collector *co)
{
	struct stat now, path;

	if (fstat(co->db_lock, &now) != 0)
		return 0;
	if (now.st_nlink == 0)
		return 1;
	if (lstat(co->a->db, &path) != 0)
		return errno == ENOENT;
	return path.st_dev != co->db_st.st_dev ||
	    path.st_ino != co->db_st.st_ino;
}

/*
 * Removes the i-th file beside the database if it is still the one the
 * collector's SQLite wrote, which would otherwise be read into whatever
 * database comes to that path.
 */
static void
remove_own_side(const struct collector *co, int i)
{
	char side[PATH_MAX + 8];
	struct stat st;

	snprintf(side, sizeof(side), "%s%s", co->a->db, side_suffix[i]);
	if (co->side_known[i] && lstat(side, &st) == 0 &&
	    st.st_dev == co->side_st[i].st_dev &&
	    st.st_ino == co->side_st[i].st_ino)
		unlink(side);
}

/*
 * Lets go of a database deleted or replaced under the collector. SQLite
 * sees the file moved and neither checkpoints nor removes the WAL beside
 * the path when it closes; so the collector checkpoints first, with
 * patience (a file moved elsewhere, not deleted, then keeps every tick),
 * and removes its own WAL and index at the path, and only those: left
 * there they would be read into the next database at the path. Said once
 * in the log.
 */
static void
drop_db(struct collector *co)
{
	const char *db = co->a->db;
	struct stat st;
	char err[512];
	int gone = lstat(db, &st) != 0;

	store_set_busy_timeout(co->st, BUSY_MAX_MS);
	if (store_checkpoint(co->st, err, sizeof(err)) != 0)
		log_warn("%s; if the file was moved, not deleted, its last "
		    "ticks may be missing from it", err);
	store_close(co->st);
	co->st = NULL;
	remove_own_side(co, 0);
	remove_own_side(co, 1);
	close(co->db_lock);
	co->db_lock = -1;
	co->db_created = 0;
	log_warn("%s: the database was %s under the collector; the ticks "
	    "it held are no longer at that path. The next ticks go into %s",
	    db, gone ? "deleted" : "replaced by another file", gone ?
	    "a new database made there" : "the file now there, if it is a "
	    "gua database of this host (else they wait, as for a full disk)");
}

/*
 * Takes up the database at the path again, as --append does: the file
 * there if it is a gua database of this host that this user may write,
 * else a new one when there is none; with a new run.
 */
static int
renew_db(struct collector *co, char *err, size_t errlen)
{
	const struct collector_config *a = co->a;
	char side[PATH_MAX + 8];
	struct stat st;

	if (lstat(a->db, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return util_err(err, errlen, "%s: is a directory",
			    a->db);
		if (lock_db(co, err, errlen) != 0)
			return -1;
		if (check_append(a->db, err, errlen) != 0)
			goto fail;
	} else {
		/* A WAL that outlived its database would be read into the
		   new one. */
		snprintf(side, sizeof(side), "%s-wal", a->db);
		if (lstat(side, &st) == 0 && st.st_size > 0)
			return util_err(err, errlen, "%s: left without its "
			    "database; move it away so a new database can be "
			    "made at %s", side, a->db);
	}
	if (open_store(co, &co->info, err, errlen) != 0 ||
	    store_begin_run(co->st, util_now_ms(), a->interval_ms,
	    co->source->name, co->info.driver_version, err, errlen) != 0)
		goto fail;
	store_set_busy_timeout(co->st, busy_ms(a));
	co->renewed_ms = util_now_ms();
	if (note_db(co, err, errlen) != 0)
		goto fail;
	log_info("collector now writes %s%s", a->db, co->db_created ?
	    " (new)" : " (appending)");
	return 0;
fail:
	store_close(co->st);
	co->st = NULL;
	if (co->db_created)
		remove_db(a->db);
	co->db_created = 0;
	if (co->db_lock >= 0)
		close(co->db_lock);
	co->db_lock = -1;
	return -1;
}

/* Writes every waiting tick, in one transaction when there are several. */
static int
write_pending(struct collector *co, char *err, size_t errlen)
{
	if (co->st == NULL && renew_db(co, err, errlen) != 0)
		return -1;
	if (co->npend == 1)
		return store_write_tick(co->st, pending(co, 0), err, errlen);
	if (store_begin(co->st, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < co->npend; i++) {
		if (store_write_tick(co->st, pending(co, i), err,
		    errlen) != 0) {
			store_rollback(co->st);
			return -1;
		}
	}
	return store_commit(co->st, err, errlen);
}

/*
 * Adds the n ticks just recorded (or, n 0, counts a tick that was not),
 * renders the exposition once, and rewrites the textfile with it and
 * hands it to the HTTP server; a failure is logged once per burst, like
 * ticks, and never stops the collector.
 */
static void
textfile_write(struct collector *co, size_t n)
{
	const struct thresholds *thr;
	char err[1024], *text = NULL;
	size_t len = 0;
	int rc = 0;

	if (co->prom == NULL)
		return;
	thr = &co->thr;
	if (n == 0)
		export_prom_count_error(co->prom);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = export_prom_add_tick(co->prom, pending(co, i), thr, err,
		    sizeof(err));
	if (rc == 0 && (rc = export_prom_render(co->prom, &text, &len)) != 0)
		util_err(err, sizeof(err), "out of memory");
	if (rc == 0 && co->a->textfile_dir != NULL &&
	    co->a->textfile_dir[0] != '\0')
		rc = export_prom_write_text(co->prom, text, len, err,
		    sizeof(err));
	/* Served as rendered, even when the file could not be written. */
	if (text != NULL)
		http_metrics_publish(co->http, text, len);
	if (rc != 0) {
		if (co->prom_failed++ == 0)
			log_warn("textfile not written: %s; the next ticks "
			    "retry (logged again when it recovers)", err);
		return;
	}
	if (co->prom_failed > 0)
		log_info("textfile written again after %lld failures",
		    (long long)co->prom_failed);
	co->prom_failed = 0;
}

/* The waiting ticks were committed: count, export and print them. */
static void
written(struct collector *co)
{
	textfile_write(co, co->npend);
	for (size_t i = 0; i < co->npend; i++) {
		co->ticks++;
		if (co->a->print_ticks)
			tick_print(stdout, pending(co, i), co->ticks);
	}
	/* The ring is empty: its first slot serves the next tick, so one
	   tick's memory is reused, and what a burst took is released (to
	   the system, not only to malloc's free lists). */
	if (co->npend > 1 || co->pend_first != 0) {
		for (size_t i = 1; i < RING_SLOTS; i++)
			tick_free(&co->pend[i]);
#ifdef __GLIBC__
		malloc_trim(0);
#endif
	}
	co->pend_first = 0;
	co->npend = 0;
}

/*
 * A sampled tick to the idle-held streaks, whether or not it can be
 * written, and the hooks it makes due; out of memory, every streak ends
 * (logged once) rather than stretch over a tick it did not see.
 */
static void
streaks_feed(struct collector *co, const struct tick *t)
{
	char err[256];

	if (co->streaks == NULL)
		return;
	if (streaks_add_tick(co->streaks, t, &co->thr, err,
	    sizeof(err)) != 0) {
		struct tick none = { .ts_ms = t->ts_ms, .span_ms = t->span_ms };

		if (!co->streaks_failed)
			log_warn("idle-held streaks: %s; they start again",
			    err);
		co->streaks_failed = 1;
		streaks_add_tick(co->streaks, &none, &co->thr, err,
		    sizeof(err));
		return;
	}
	co->streaks_failed = 0;
	if (co->notify != NULL)
		notify_run(co->notify, co->streaks);
}

/*
 * Samples a tick and writes it with any that wait: 0, or -1 when it could
 * not be sampled, -2 when the ticks could not be written (they wait).
 * What was written is counted, added to the textfile and printed.
 */
static int
record(struct collector *co, int64_t mono, char *err, size_t errlen)
{
	if (sample_tick(co, mono, err, errlen) != 0)
		return -1;
	streaks_feed(co, pending(co, co->npend - 1));
	if (co->st != NULL && db_gone(co))
		drop_db(co);
	if (write_pending(co, err, errlen) != 0)
		return -2;
	written(co);
	return 0;
}

static void
tick_logged(struct collector *co, int64_t mono)
{
	char err[1024];
	int rc;

	if ((rc = record(co, mono, err, sizeof(err))) != 0) {
		co->unsampled += rc == -1;
		if (co->failed++ == 0)
			log_warn("tick not %s: %s; sampling goes on and "
			    "the next ticks retry%s (logged again when it "
			    "recovers)", rc == -1 ? "sampled" : "recorded",
			    err, rc == -1 ? "" : ", the ticks not written "
			    "waiting in memory");
		textfile_write(co, 0);
		return;
	}
	if (co->failed > 0) {
		if (co->dropped + co->unsampled > 0)
			log_info("ticks recorded again after %lld that were "
			    "not; %lld could not be sampled and %lld waited "
			    "too long and were dropped (gaps in the record)",
			    (long long)co->failed, (long long)co->unsampled,
			    (long long)co->dropped);
		else
			log_info("ticks recorded again after %lld that were "
			    "not; none was lost", (long long)co->failed);
	}
	co->failed = 0;
	co->unsampled = 0;
	co->dropped = 0;
}

/* Sleeps until the monotonic deadline or a signal; signals are blocked
   except inside ppoll, so none is missed between the check and the wait. */
static void
sleep_until(const struct collector *co, int64_t deadline,
    const sigset_t *open)
{
	int64_t left = deadline - util_mono_ms();
	struct timespec ts;

	if (left <= 0 || *co->stop || *co->hup)
		return;
	ts.tv_sec = (time_t)(left / 1000);
	ts.tv_nsec = (long)(left % 1000) * 1000000L;
	ppoll(NULL, 0, &ts, open);
}

/*
 * --keep-raw: one hour made hourly only and a few pages given back, just
 * after a tick, and only when the last step would have fitted before the
 * next deadline, so no tick waits for it; then the next hour at the next
 * tick, until none is due, and a look again a minute later. The longest
 * step is logged with the hours done. A step longer than the interval
 * never fits: rather than let raw ticks pile up for ever, one is taken
 * anyway once a minute, holding up that one tick.
 */
static void
compact_some(struct collector *co, int64_t deadline)
{
	struct store_compact c;
	int64_t now = util_mono_ms(), t0, freed;
	char err[512];
	int rc;

	if (co->a->keep_raw_ms <= 0 || co->st == NULL ||
	    now < co->compact_next)
		return;
	if (now + co->compact_last_ms >= deadline) {
		if (co->compact_squeezed == 0)
			co->compact_squeezed = now;
		if (now - co->compact_squeezed < MS_PER_MINUTE)
			return;
	}
	co->compact_squeezed = 0;
	t0 = util_mono_us();
	rc = store_compact_step(co->st, co->a->keep_raw_ms, 1, &c, err,
	    sizeof(err));
	if (rc >= 0)
		rc = store_vacuum_step(co->st, COMPACT_PAGES, &freed, err,
		    sizeof(err));
	/* A lock held elsewhere (gua compact, say) or a damaged hour:
	   logged once, tried again each minute. */
	if (rc < 0) {
		if (!co->compact_failing)
			log_warn("compaction: %s; tried again each minute "
			    "(logged again when it works)", err);
		co->compact_failing = 1;
		co->compact_next = now + MS_PER_MINUTE;
		return;
	}
	if (co->compact_failing)
		log_info("compaction works again");
	co->compact_failing = 0;
	co->compact_last_ms = (util_mono_us() - t0) / 1000;
	if (c.hours > 0) {
		co->compact_hours += c.hours;
		if (util_mono_us() - t0 > co->compact_worst_us)
			co->compact_worst_us = util_mono_us() - t0;
	}
	if (c.hours > 0 && c.more)
		return;
	if (co->compact_hours > 0)
		log_info("compaction: %lld hours made hourly only (raw ticks "
		    "kept %lld s); the longest step took %.1f ms",
		    (long long)co->compact_hours,
		    (long long)(co->a->keep_raw_ms / 1000),
		    (double)co->compact_worst_us / 1000.0);
	co->compact_hours = 0;
	co->compact_worst_us = 0;
	co->compact_next = now + MS_PER_MINUTE;
}

/* When to poll the source next: when it says, never sooner than every
   ms; the next tick's time or later when it needs none before. */
static int64_t
next_poll(struct collector *co, int64_t every)
{
	int64_t wait = co->source->poll != NULL ?
	    co->source->poll(co->src) : -1;

	return util_mono_ms() + (wait < 0 ? co->a->interval_ms :
	    wait > every ? wait : every);
}

/*
 * Ticks on the grid; between them the source is polled (per-process
 * utilization) when it asks, at most every source_poll_ms (about once a
 * second or faster), never delaying a tick.
 */
void
collector_run(struct collector *co, const sigset_t *open,
    volatile sig_atomic_t *stop, volatile sig_atomic_t *hup)
{
	int64_t iv = co->a->interval_ms, t0 = co->prev_mono, next, poll, now;
	int64_t every = source_poll_ms(iv);
	char err[512];

	co->stop = stop;
	co->hup = hup;
	next = t0 + iv;
	poll = next_poll(co, every);
	while (!*stop) {
		int64_t wake = poll < next ? poll : next;

		/* A hook past its time is ended on time. */
		if (notify_deadline(co->notify) < wake)
			wake = notify_deadline(co->notify);
		sleep_until(co, wake, open);
		notify_reap(co->notify);
		if (*hup) {
			*hup = 0;
			if (log_reopen(err, sizeof(err)) != 0)
				log_warn("SIGHUP: cannot reopen the log: %s",
				    err);
			else
				log_info("SIGHUP: log reopened");
		}
		if (*stop)
			break;
		now = util_mono_ms();
		if (now < next) {
			if (now >= poll)
				poll = next_poll(co, every);
			continue;
		}
		tick_logged(co, now);
		/* The next deadline on the grid after now: an overrun skips
		   ahead, and the span cap leaves an honest gap. */
		next = t0 + ((util_mono_ms() - t0) / iv + 1) * iv;
		compact_some(co, next);
		/* The tick read what the source reads: it says when next
		   (without a wakeup that would find nothing due). */
		poll = next_poll(co, every);
	}
}

/* Everything the collector holds, released in the safe order: SQLite
   before the descriptor whose flock guards the file. */
static void
release(struct collector *co, int remove)
{
	store_close(co->st);
	co->st = NULL;
	if (remove && co->db_created)
		remove_db(co->a->db);
	if (co->db_lock >= 0)
		close(co->db_lock);
	co->db_lock = -1;
	if (co->src != NULL)
		co->source->close(co->src);
	co->src = NULL;
	/* The server first: it may be copying the text when stopped. */
	http_metrics_stop(co->http);
	co->http = NULL;
	export_prom_close(co->prom);
	co->prom = NULL;
	notify_close(co->notify);
	co->notify = NULL;
	streaks_free(co->streaks);
	co->streaks = NULL;
	for (size_t i = 0; i < RING_SLOTS; i++)
		tick_free(&co->pend[i]);
	free(co);
}

/* Opens or creates the database once NVML is up. */
static int
open_store(struct collector *co, const struct source_info *info, char *err,
    size_t errlen)
{
	const struct collector_config *a = co->a;
	struct store_meta meta;
	struct stat sb;

	if (co->db_lock >= 0)
		return store_open_append(&co->st, a->db, err, errlen);
	memset(&meta, 0, sizeof(meta));
	util_hostname(meta.hostname, sizeof(meta.hostname));
	util_strlcpy(meta.source, co->source->name, sizeof(meta.source));
	util_strlcpy(meta.gua_version, GUA_VERSION, sizeof(meta.gua_version));
	util_strlcpy(meta.driver_version, info->driver_version,
	    sizeof(meta.driver_version));
	meta.interval_ms = a->interval_ms;
	meta.created_ms = util_now_ms();
	classify_defaults(&meta.rollup);
	if (store_create(&co->st, a->db, &meta, err, errlen) != 0) {
		/* It was absent a moment ago: another collector made it. */
		if (lstat(a->db, &sb) == 0)
			util_err(err, errlen, "%s: created meanwhile by another "
			    "process (another gua daemon starting?); not "
			    "started", a->db);
		return -1;
	}
	co->db_created = 1;
	if (lock_db(co, err, errlen) != 0) {
		/* Another collector locked it first: the file is its now. */
		co->db_created = 0;
		return -1;
	}
	return 0;
}

/*
 * The Prometheus exposition, for the textfile and /metrics: its counters
 * start from the database's whole history when the collector appends, so
 * a restart does not reset them.
 */
static int
open_textfile(struct collector *co, const struct source_info *info,
    char *err, size_t errlen)
{
	struct report_options o;
	struct report rep;
	const char *dir = co->a->textfile_dir;
	int rc;

	if (export_prom_open(&co->prom, dir != NULL && dir[0] != '\0' ? dir :
	    NULL, info->driver_version, err, errlen) != 0)
		return -1;
	export_prom_group_by(co->prom, (enum export_prom_by)co->a->metrics_by);
	if (co->db_created)
		return 0;
	memset(&o, 0, sizeof(o));
	o.until_ms = util_now_ms();
	o.since_ms = DURATION_MAX_MS;
	o.gpu_id = -1;
	o.thr = store_meta(co->st)->rollup;
	if (report_build(co->st, &o, &rep, err, errlen) != 0)
		return -1;
	rc = export_prom_seed(co->prom, &rep, err, errlen);
	report_free(&rep);
	return rc;
}

/* The idle-held streaks, when the textfile or a hook reads them. */
static int
open_streaks(struct collector *co, char *err, size_t errlen)
{
	const struct collector_config *a = co->a;
	struct notify_config nc;

	if (co->prom == NULL && a->notify_exec == NULL)
		return 0;
	if (streaks_new(&co->streaks, err, errlen) != 0)
		return -1;
	export_prom_follow_streaks(co->prom, co->streaks);
	if (a->notify_exec == NULL)
		return 0;
	nc.exec = a->notify_exec;
	nc.after_ms = a->notify_after_ms;
	nc.repeat_ms = a->notify_repeat_ms;
	return notify_new(&co->notify, &nc, err, errlen);
}

int
collector_start(struct collector **out, const struct collector_config *cfg,
    char *err, size_t errlen)
{
	struct source_config scfg = { cfg->nvml_library, cfg->interval_ms,
		source_log, NULL };
	struct source_info info;
	struct collector *co;
	struct stat sb;
	int rc = -1;

	*out = NULL;
	if ((co = calloc(1, sizeof(*co))) == NULL)
		return util_err(err, errlen, "out of memory");
	co->a = cfg;
	co->source = cfg->source;
	co->db_lock = -1;
	co->prev_mono = -1;
	if (lstat(cfg->db, &sb) == 0) {
		/* A link planted at the path is never written through, with
		   --append or without. */
		if (S_ISLNK(sb.st_mode)) {
			util_err(err, errlen, "%s: is a symbolic link; refusing "
			    "to write through it", cfg->db);
			goto fail;
		}
		/* No gua database at all: bad usage, as for every command. */
		if (!S_ISREG(sb.st_mode)) {
			util_err(err, errlen, "%s: %s", cfg->db,
			    S_ISDIR(sb.st_mode) ? "is a directory, not a "
			    "database file" : "not a regular file");
			rc = STORE_NOT_GUA;
			goto fail;
		}
		if (!cfg->append) {
			util_err(err, errlen, "%s: database exists; use "
			    "--append to add to it or choose another --db",
			    cfg->db);
			goto fail;
		}
		if (lock_db(co, err, errlen) != 0)
			goto fail;
		if ((rc = check_append(cfg->db, err, errlen)) != 0)
			goto fail;
		rc = -1;
	}
	/* Before NVML and the database: a port in use leaves nothing. */
	if (cfg->listen != NULL && http_metrics_start(&co->http, cfg->listen,
	    err, errlen) != 0)
		goto fail;
	if (co->source->open(&co->src, &scfg, &info, err, errlen) != 0) {
		co->src = NULL;
		goto fail;
	}
	co->info = info;
	if (open_store(co, &info, err, errlen) != 0 ||
	    store_begin_run(co->st, util_now_ms(), cfg->interval_ms,
	    co->source->name, info.driver_version, err, errlen) != 0 ||
	    note_db(co, err, errlen) != 0)
		goto fail;
	co->thr = store_meta(co->st)->rollup;
	if (((cfg->textfile_dir != NULL && cfg->textfile_dir[0] != '\0') ||
	    co->http != NULL) && open_textfile(co, &info, err, errlen) != 0)
		goto fail;
	if (open_streaks(co, err, errlen) != 0)
		goto fail;
	log_info("collector started: PID %ld, database %s%s, interval %lld ms, "
	    "%d GPU%s, source %s (%s), driver %s%s%s", (long)getpid(), cfg->db,
	    co->db_created ? " (new)" : " (appending)",
	    (long long)cfg->interval_ms, info.ngpus, info.ngpus == 1 ? "" : "s",
	    co->source->name, info.kind,
	    info.driver_version[0] ? info.driver_version : "unknown",
	    info.library[0] ? ", NVML " : "", info.library);
	if (co->http != NULL)
		log_info("serving http://%s%s", cfg->listen, HTTP_METRICS_PATH);
	if (geteuid() == 0)
		log_info("running as root: NVML needs no privileges; a "
		    "dedicated unprivileged user is recommended");
	if (record(co, util_mono_ms(), err, errlen) != 0) {
		size_t len = strlen(err);

		/* "first tick: " before the reason. */
		if (len + 13 < errlen) {
			memmove(err + 12, err, len + 1);
			memcpy(err, "first tick: ", 12);
		}
		goto fail;
	}
	/* From now on a lock held by another process delays a write by at
	   most half an interval. */
	store_set_busy_timeout(co->st, busy_ms(cfg));
	*out = co;
	return 0;
fail:
	release(co, 1);
	return rc;
}

int64_t
collector_ticks(const struct collector *co)
{
	return co->ticks;
}

int64_t
collector_finish(struct collector *co)
{
	char err[1024];
	int64_t ticks;

	if (co->npend > 0) {
		/* A last try for the ticks still waiting, with patience. */
		if (co->st != NULL && db_gone(co))
			drop_db(co);
		if (co->st != NULL)
			store_set_busy_timeout(co->st, BUSY_MAX_MS);
		if (write_pending(co, err, sizeof(err)) == 0)
			written(co);
		else
			log_warn("%zu ticks were never written: %s", co->npend,
			    err);
	}
	/* A stopped collector's gauges would read as a live GPU: the
	   textfile goes with it. */
	if (co->prom != NULL && export_prom_remove(co->prom, err,
	    sizeof(err)) != 0)
		log_warn("textfile left behind: %s", err);
	ticks = co->ticks;
	release(co, 0);
	return ticks;
}
