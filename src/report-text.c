#include <math.h>
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "report-text.h"
#include "util.h"

static const char heat_scale[] = " .:-=+*#%@";

/* Subtle colours, on a terminal only: the three states and headings. */
#define SGR_ACTIVE	"\033[32m"
#define SGR_IDLE_HELD	"\033[33m"
#define SGR_TRULY_IDLE	"\033[2m"
#define SGR_HEADING	"\033[1m"
#define SGR_RESET	"\033[0m"

static int colour;	/* set by report_text_write for one report */

static void
sgr(FILE *f, const char *code)
{
	if (colour)
		fputs(code, f);
}

/* A section heading ("\n§1 Headline\n"), bold on a terminal. */
static void
heading(FILE *f, const char *text)
{
	fputc('\n', f);
	sgr(f, SGR_HEADING);
	fputs(text, f);
	sgr(f, SGR_RESET);
	fputc('\n', f);
}
static const char *const weekdays[7] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	"Fri", "Sat" };

/* Prints untrusted text escaped, cut and padded to exactly cols columns. */
static void
put_cell(FILE *f, const char *s, size_t cols)
{
	char buf[1024];
	size_t used = escape_terminal(s, buf, sizeof(buf), cols);

	fputs(buf, f);
	for (; used < cols; used++)
		fputc(' ', f);
}

static void
put_repeat(FILE *f, const char *glyph, int n)
{
	for (int i = 0; i < n; i++)
		fputs(glyph, f);
}

/* n glyphs in a state's colour. */
static void
put_state(FILE *f, const char *code, const char *glyph, int n)
{
	if (n <= 0)
		return;
	sgr(f, code);
	put_repeat(f, glyph, n);
	sgr(f, SGR_RESET);
}

void
report_text_bar_cells(const struct rollup_gpu *r, int width, int cells[3])
{
	/* Round each share to whole cells (half to even, as the original),
	   and let truly-idle take the rest so the bar is exactly width. */
	cells[0] = (int)nearbyint(report_share(r, STATE_ACTIVE) * width);
	cells[1] = (int)nearbyint(report_share(r, STATE_IDLE_HELD) * width);
	if (cells[0] > width)
		cells[0] = width;
	if (cells[0] + cells[1] > width)
		cells[1] = width - cells[0];
	cells[2] = width - cells[0] - cells[1];
}

/* "GPU-0" ("GPU-0/MIG-c6d4"), or "host/GPU-0" in a report over several
   hosts; escaped. */
static void
gpu_label(const struct report *rep, size_t gpu, char *buf, size_t len)
{
	char host[160], label[96], safe[96];

	report_gpu_label(rep, gpu, label, sizeof(label));
	escape_terminal(label, safe, sizeof(safe), 0);
	if (rep->nhosts <= 1) {
		util_strlcpy(buf, safe, len);
		return;
	}
	/* Cut as the Hosts section cuts it, so the columns stay narrow. */
	escape_terminal(rep->hosts[rep->gpus[gpu].host].hostname, host,
	    sizeof(host), 20);
	snprintf(buf, len, "%.150s/%s", host, safe);
}

/* Columns of escaped text (one per character, as escape_terminal counts). */
static size_t
columns(const char *s)
{
	char buf[1024];

	return escape_terminal(s, buf, sizeof(buf), 0);
}

/* Columns of text already escaped: one per character. */
static int
escaped_cols(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* An escaped GPU label padded to cols columns (printf pads bytes). */
static void
put_label(FILE *f, const char *label, int cols)
{
	fputs(label, f);
	for (int n = escaped_cols(label); n < cols; n++)
		fputc(' ', f);
}

/* The widest GPU label, at least min: MIG instances', replaced cards'
   (GPU-10#2) and several hosts' are longer. */
static int
gpu_label_width(const struct report *rep, int min)
{
	char label[256];
	int w = min;

	for (size_t i = 0; i < rep->ngpus; i++) {
		gpu_label(rep, i, label, sizeof(label));
		if (escaped_cols(label) > w)
			w = escaped_cols(label);
	}
	return w;
}

/* "alice", or "alice (container 3f2a1b4c5d6e)" where it ran; raw text. */
static void
who_label(const char *user, const char *container, const char *pod,
    const char *unit, const char *slurm_job, char *buf, size_t len)
{
	char place[256];

	report_place(container, pod, unit, slurm_job, place, sizeof(place));
	if (place[0] != '\0')
		snprintf(buf, len, "%s (%s)", user, place);
	else
		util_strlcpy(buf, user, len);
}

#define WHO_MAX_COLS	48	/* a user with where it ran: cut beyond */

/* A process's own SM utilization as a 6-column cell: "  3.2%", "-". */
static void
format_sm(double pct, char *buf, size_t len)
{
	if (pct < 0)
		snprintf(buf, len, "%6s", "-");
	else
		snprintf(buf, len, "%5.1f%%", pct);
}

/* Several hosts: one line each, between the header and §1. */
static void
write_hosts(FILE *f, const struct report *rep)
{
	heading(f, "Hosts");
	for (size_t i = 0; i < rep->nhosts; i++) {
		const struct report_host *h = &rep->hosts[i];
		char window[64];

		util_format_elapsed(h->end_ms - h->start_ms, window,
		    sizeof(window));
		fputs("  ", f);
		put_cell(f, h->hostname, 20);
		fputs("  driver ", f);
		put_cell(f, h->driver_version[0] ? h->driver_version :
		    "unknown", 0);
		fprintf(f, "  %zu GPU%s", h->ngpus, h->ngpus == 1 ? "" : "s");
		if (rollup_gpu_known_n(&h->total) == 0) {
			fprintf(f, "  (no samples in window)\n");
			continue;
		}
		fprintf(f, "  active %5.1f%%  idle-held %5.1f%%  truly-idle "
		    "%5.1f%%  (%lld samples, window %s, coverage %.1f%%)\n",
		    100 * report_share(&h->total, STATE_ACTIVE),
		    100 * report_share(&h->total, STATE_IDLE_HELD),
		    100 * report_share(&h->total, STATE_TRULY_IDLE),
		    (long long)rollup_gpu_known_n(&h->total), window,
		    100 * report_host_coverage(h));
	}
}

static void
write_header(FILE *f, const struct report *rep)
{
	char window[64];

	util_format_elapsed(report_window_ms(rep), window, sizeof(window));
	fputs("gua \xe2\x80\x94 ", f);
	if (rep->nhosts > 1) {
		fprintf(f, "%zu hosts  Window: %s\n", rep->nhosts, window);
		write_hosts(f, rep);
		return;
	}
	put_cell(f, rep->meta.hostname, 0);
	fputs(" (bare, driver ", f);
	put_cell(f, rep->meta.driver_version[0] ? rep->meta.driver_version :
	    "unknown", 0);
	fprintf(f, ")  Window: %s\n", window);
}

static void
write_headline(FILE *f, const struct report *rep, int width)
{
	const struct rollup_gpu *t = &rep->total;
	int cells[3];
	double cov;

	heading(f, "\xc2\xa7" "1 Headline");
	if (rollup_gpu_known_n(t) == 0) {
		fputs("  (no samples in window)\n", f);
		return;
	}
	report_text_bar_cells(t, width, cells);
	fputs("  ", f);
	put_state(f, SGR_ACTIVE, "\xe2\x96\x88", cells[0]);
	put_state(f, SGR_IDLE_HELD, "\xe2\x96\x92", cells[1]);
	put_state(f, SGR_TRULY_IDLE, "\xe2\x96\x91", cells[2]);
	fputc('\n', f);
	fputs("  active       ", f);
	put_state(f, SGR_ACTIVE, "\xe2\x96\x88", 1);
	fprintf(f, "  %5.1f%%\n", 100 * report_share(t, STATE_ACTIVE));
	fputs("  idle-held    ", f);
	put_state(f, SGR_IDLE_HELD, "\xe2\x96\x92", 1);
	fprintf(f, "  %5.1f%%       \xe2\x86\x90 "
	    "this is the number conventional tools miss\n",
	    100 * report_share(t, STATE_IDLE_HELD));
	fputs("  truly-idle   ", f);
	put_state(f, SGR_TRULY_IDLE, "\xe2\x96\x91", 1);
	fprintf(f, "  %5.1f%%\n", 100 * report_share(t, STATE_TRULY_IDLE));
	fprintf(f, "  (%lld samples)\n", (long long)rollup_gpu_known_n(t));
	cov = report_coverage(rep);
	if (cov < 0.9995) {
		char gap[64];

		util_format_elapsed(report_unobserved_ms(rep), gap,
		    sizeof(gap));
		fprintf(f, "  coverage %.1f%% of the window observed; %s of "
		    "GPU time not observed (collector down, GPU unreadable "
		    "or its utilization unknown)\n", 100 * cov, gap);
	}
}

static void
write_waste(FILE *f, const struct report *rep)
{
	heading(f, "\xc2\xa7" "2 Waste");
	if (rollup_gpu_known_n(&rep->total) == 0) {
		fputs("  (no samples in window)\n", f);
		return;
	}
	fprintf(f, "  ~%.2f GPU-hours idle, ~%.2f GPUs equivalently unused\n",
	    report_idle_gpu_hours(rep), report_gpus_unused(rep));
}

static void
write_per_gpu(FILE *f, const struct report *rep)
{
	char label[256];
	int w = gpu_label_width(rep, 8);

	heading(f, "\xc2\xa7" "3 Per-GPU");
	if (rep->ngpus == 0) {
		fputs("  (no samples in window)\n", f);
		return;
	}
	for (size_t i = 0; i < rep->ngpus; i++) {
		const struct rollup_gpu *r = &rep->gpus[i].r;

		gpu_label(rep, i, label, sizeof(label));
		fputs("  ", f);
		put_label(f, label, w);
		fprintf(f, "  active %5.1f%%  idle-held %5.1f%%  "
		    "truly-idle %5.1f%%",
		    100 * report_share(r, STATE_ACTIVE),
		    100 * report_share(r, STATE_IDLE_HELD),
		    100 * report_share(r, STATE_TRULY_IDLE));
		if (r->n[STATE_UNKNOWN] > 0)
			fprintf(f, "  unknown %s", rollup_gpu_known_n(r) ?
			    "for part" : "throughout");
		fputc('\n', f);
	}
}

/* An identity's name as §4 shows it: "user", "user@host" over several
   hosts, then where its processes ran when they share it. Raw text. */
static void
identity_label(const struct report *rep, const struct report_identity *id,
    char *buf, size_t len)
{
	char user[512];

	if (rep->nhosts > 1)
		snprintf(user, sizeof(user), "%s@%s", id->name,
		    rep->hosts[id->host].hostname);
	else
		util_strlcpy(user, id->name, sizeof(user));
	who_label(user, id->container, id->pod, id->unit, id->slurm_job, buf,
	    len);
}

static void
write_identities(FILE *f, const struct report *rep)
{
	size_t shown = rep->nids < TEXT_TOP_IDENTITIES ? rep->nids :
	    TEXT_TOP_IDENTITIES;
	char label[1024];
	size_t w = 20;

	heading(f, "\xc2\xa7" "4 Top identities (by idle-held GPU-hours)");
	if (rep->nids == 0) {
		fputs(rollup_gpu_known_n(&rep->total) == 0 ?
		    "  (no samples in window)\n" :
		    "  (no process held a GPU in window)\n", f);
		return;
	}
	/* Wider for where the processes ran, when a name says it. */
	for (size_t i = 0; i < shown; i++) {
		const struct report_identity *id = &rep->ids[i];
		size_t c;

		if (!id->container[0] && !id->pod[0] && !id->unit[0] &&
		    !id->slurm_job[0])
			continue;
		identity_label(rep, id, label, sizeof(label));
		c = columns(label);
		if (c > w)
			w = c > WHO_MAX_COLS ? WHO_MAX_COLS : c;
	}
	fputs("  ", f);
	put_cell(f, "identity", w);
	fputs("  gpu-hours   idle-held   share  idle GiB\xc2\xb7h    SM %\n",
	    f);
	for (size_t i = 0; i < shown; i++) {
		const struct report_identity *id = &rep->ids[i];
		char sm[16];

		fputs("  ", f);
		identity_label(rep, id, label, sizeof(label));
		put_cell(f, label, w);
		format_sm(report_identity_util(id), sm, sizeof(sm));
		fprintf(f, "  %9.2f   %9.2f  %5.1f%%  %10.2f  %s\n",
		    (double)id->ms / MS_PER_HOUR,
		    (double)id->idle_ms / MS_PER_HOUR,
		    id->ms ? 100.0 * (double)id->idle_ms / (double)id->ms : 0,
		    (double)id->idle_mib_ms / 1024 / MS_PER_HOUR, sm);
	}
	if (rep->nids > shown)
		fprintf(f, "  (%zu more)\n", rep->nids - shown);
}

static void
write_grid(FILE *f, const struct report *rep, enum state s)
{
	fputs("        ", f);
	for (int h = 0; h < 24; h++)
		fprintf(f, "%d%s", h % 10, h < 23 ? " " : "\n");
	for (int d = 0; d < 7; d++) {
		char line[8 + 48 + 1];
		int end = 0;

		memset(line, ' ', sizeof(line));
		memcpy(line + 2, weekdays[d], 3);
		for (int h = 0; h < 24; h++) {
			const struct rollup_gpu *c = &rep->heat[d][h];
			int idx;

			if (rollup_gpu_known_ms(c) == 0)
				continue;
			idx = (int)(report_share(c, s) * 9 + 0.5);
			if (idx < 1)
				idx = 1;
			if (idx > 9)
				idx = 9;
			line[8 + 2 * h] = heat_scale[idx];
			end = 8 + 2 * h + 1;
		}
		line[end > 5 ? end : 5] = '\0';
		fprintf(f, "%s\n", line);
	}
}

static void
write_heatmaps(FILE *f, const struct report *rep)
{
	heading(f, "\xc2\xa7" "5 Time-of-day heatmap (UTC)");
	if (rollup_gpu_known_n(&rep->total) == 0) {
		fputs("  (no samples in window)\n", f);
		return;
	}
	fputs("  active share (\" .:-=+*#%@\", low to high; blank: no "
	    "samples)\n", f);
	write_grid(f, rep, STATE_ACTIVE);
	fputs("  idle-held share\n", f);
	write_grid(f, rep, STATE_IDLE_HELD);
}

static void
write_sessions(FILE *f, const struct report *rep)
{
	size_t shown = 0, uw = 10;
	int gw = 6;
	char who[1024];

	heading(f, "\xc2\xa7" "6 Idle-held sessions (longest first)");
	if (rollup_gpu_known_n(&rep->total) == 0) {
		fputs("  (no samples in window)\n", f);
		return;
	}
	/* Columns as wide as the rows shown need: where a process ran goes
	   beside its user, a MIG instance's label and a host's are longer. */
	for (size_t i = 0; i < rep->nsessions && i < TEXT_TOP_SESSIONS &&
	    rep->sessions[i].r.idle_ms > 0; i++) {
		const struct report_session *s = &rep->sessions[i];
		char label[256];
		size_t c;

		who_label(s->who.user[0] ? s->who.user : "unknown",
		    s->who.container, s->who.pod, s->who.unit,
		    s->who.slurm_job, who, sizeof(who));
		c = columns(who);
		if (c > uw)
			uw = c > WHO_MAX_COLS ? WHO_MAX_COLS : c;
		gpu_label(rep, s->gpu, label, sizeof(label));
		if (escaped_cols(label) > gw)
			gw = escaped_cols(label);
	}
	for (size_t i = 0; i < rep->nsessions; i++) {
		const struct report_session *s = &rep->sessions[i];
		char label[256], idle[64], first[32], last[32], sm[16];

		if (s->r.idle_ms == 0)
			break;	/* sorted: the rest held nothing idle */
		if (shown == TEXT_TOP_SESSIONS) {
			size_t more = 0;

			for (size_t j = i; j < rep->nsessions &&
			    rep->sessions[j].r.idle_ms > 0; j++)
				more++;
			fprintf(f, "  (%zu more)\n", more);
			break;
		}
		if (shown++ == 0) {
			fputs("  ", f);
			put_cell(f, "user", uw);
			fprintf(f, "    pid  command          %-*s  peak MiB   "
			    "idle-held    SM %%  first seen (UTC)     last seen "
			    "(UTC)      alive\n", gw, "gpu");
		}
		gpu_label(rep, s->gpu, label, sizeof(label));
		format_sm(report_session_util(s), sm, sizeof(sm));
		util_format_elapsed(s->r.idle_ms, idle, sizeof(idle));
		util_format_datetime(s->r.first_ms, first, sizeof(first));
		util_format_datetime(s->r.last_ms, last, sizeof(last));
		fputs("  ", f);
		who_label(s->who.user[0] ? s->who.user : "unknown",
		    s->who.container, s->who.pod, s->who.unit,
		    s->who.slurm_job, who, sizeof(who));
		put_cell(f, who, uw);
		fprintf(f, " %6u  ", s->pid);
		put_cell(f, s->who.comm[0] ? s->who.comm : "?", 15);
		fputs("  ", f);
		put_label(f, label, gw);
		if (s->r.peak_mib == MIB_UNKNOWN)
			fprintf(f, "  %8s", "unknown");
		else
			fprintf(f, "  %8lld", (long long)s->r.peak_mib);
		fprintf(f, "  %10s  %s  %s  %s  %s\n", idle, sm, first, last,
		    s->alive ? "yes" : "no");
	}
	if (shown == 0)
		fputs("  (no process held memory idle in window)\n", f);
}

int
report_text_write(FILE *f, const struct report *rep,
    const struct text_options *o)
{
	colour = o->colour;
	write_header(f, rep);
	write_headline(f, rep, o->width);
	write_waste(f, rep);
	write_per_gpu(f, rep);
	write_identities(f, rep);
	write_heatmaps(f, rep);
	write_sessions(f, rep);
	fflush(f);
	return ferror(f) ? -1 : 0;
}
