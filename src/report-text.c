/*
 * The report as text for a terminal, in the original tool's layout: UTF-8
 * bars and signs, or their ASCII stand-ins where the locale cannot show
 * UTF-8; times in the report's zone (tz.h).
 */
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "escape.h"
#include "report-text.h"
#include "tz.h"
#include "util.h"

static const char heat_scale[] = " .:-=+*#%@";

/* Subtle colours, on a terminal only: the three states and headings. */
#define SGR_ACTIVE	"\033[32m"
#define SGR_IDLE_HELD	"\033[33m"
#define SGR_TRULY_IDLE	"\033[2m"
#define SGR_HEADING	"\033[1m"
#define SGR_RESET	"\033[0m"

static int colour;	/* set by report_text_write for one report */

/* What the report draws with: UTF-8, or ASCII for a terminal without. */
struct glyphs {
	const char	*state[3];	/* bar cells: active, idle-held, idle */
	const char	*section;	/* "§" */
	const char	*dash;		/* "—" */
	const char	*arrow;		/* "←" */
	const char	*times;		/* "·" in GiB·h */
	const char	*more;		/* "…" */
};

static const struct glyphs utf8_glyphs = {
	{ "\xe2\x96\x88", "\xe2\x96\x92", "\xe2\x96\x91" }, "\xc2\xa7",
	"\xe2\x80\x94", "\xe2\x86\x90", "\xc2\xb7", "\xe2\x80\xa6",
};
static const struct glyphs ascii_glyphs = {
	{ "#", "=", "." }, "#", "--", "<-", "*", "...",
};
static const struct glyphs *g = &utf8_glyphs;	/* for one report */
static int ascii;				/* ... and whether ASCII */

static void
sgr(FILE *f, const char *code)
{
	if (colour)
		fputs(code, f);
}

/* A section heading ("\n§1 Headline\n"), bold on a terminal; text
   follows the section sign. */
static void
heading(FILE *f, const char *text)
{
	fputc('\n', f);
	sgr(f, SGR_HEADING);
	if (text[0] >= '1' && text[0] <= '9')
		fputs(g->section, f);
	fputs(text, f);
	sgr(f, SGR_RESET);
	fputc('\n', f);
}

/*
 * Without UTF-8, escape_terminal's cut mark "…" becomes '~' and any other
 * character past ASCII '?', one column each as escape_terminal counts
 * them, so columns stay where they were.
 */
static void
to_ascii(char *s)
{
	char *w = s;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';
	    p++) {
		if (*p < 0x80)
			*w++ = (char)*p;
		else if (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0xa6)
			*w++ = '~';
		else if ((*p & 0xc0) != 0x80)
			*w++ = '?';
	}
	*w = '\0';
}
static const char *const weekdays[7] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	"Fri", "Sat" };

/* Prints untrusted text escaped, cut and padded to exactly cols columns. */
static void
put_cell(FILE *f, const char *s, size_t cols)
{
	char buf[4096];
	size_t used = escape_terminal(s, buf, sizeof(buf), cols);

	if (ascii)
		to_ascii(buf);
	fputs(buf, f);
	for (; used < cols; used++)
		fputc(' ', f);
}

/* Prints untrusted text escaped and cut to cols columns, unpadded: a
   line's last column. */
static void
put_tail(FILE *f, const char *s, size_t cols)
{
	char buf[4096];

	escape_terminal(s, buf, sizeof(buf), cols);
	if (ascii)
		to_ascii(buf);
	fputs(buf, f);
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
	if (ascii)
		to_ascii(safe);
	if (rep->nhosts <= 1) {
		util_strlcpy(buf, safe, len);
		return;
	}
	/* Cut as the Hosts section cuts it, so the columns stay narrow. */
	escape_terminal(rep->hosts[rep->gpus[gpu].host].hostname, host,
	    sizeof(host), 20);
	if (ascii)
		to_ascii(host);
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
		    "%5.1f%%  (%lld sample%s, window %s, coverage %.1f%%)\n",
		    100 * report_share(&h->total, STATE_ACTIVE),
		    100 * report_share(&h->total, STATE_IDLE_HELD),
		    100 * report_share(&h->total, STATE_TRULY_IDLE),
		    (long long)rollup_gpu_known_n(&h->total),
		    rollup_gpu_known_n(&h->total) == 1 ? "" : "s", window,
		    100 * report_host_coverage(h));
	}
}

/*
 * "Window: START to END (ZONE), LENGTH", then where the history ends when
 * the window reaches past it: a start later than the one asked for, a
 * last sample well before the end.
 */
static void
write_window(FILE *f, const struct report *rep)
{
	char start[48], end[48], window[64], asked[64], last[48];
	int64_t end_ms = rep->end_ms - 1 < rep->start_ms ? rep->start_ms :
	    rep->end_ms - 1;
	int64_t slack = 2 * (rep->meta.interval_ms > 0 ?
	    rep->meta.interval_ms : MS_PER_MINUTE);

	tz_format_long(rep->start_ms, start, sizeof(start));
	tz_format_long(end_ms, end, sizeof(end));
	util_format_elapsed(report_window_ms(rep), window, sizeof(window));
	fprintf(f, "Window: %s to %s (%s), %s\n", start, end, tz_name(),
	    window);
	if (rep->hourly_end_ms > rep->hourly_start_ms) {
		tz_format_long(rep->hourly_start_ms, start, sizeof(start));
		tz_format_long(rep->hourly_end_ms - 1, end, sizeof(end));
		fprintf(f, "  hourly only from %s to %s: raw ticks compacted, "
		    "no per-tick rows there\n", start, end);
	}
	if (rep->last_tick_ms == 0 && rep->history_end_ms == 0) {
		fprintf(f, "  no sample in the window%s\n", rep->start_ms >
		    rep->asked_start_ms ? ": the history starts after it" :
		    "");
		return;
	}
	if (rep->last_tick_ms != 0 && rep->start_ms > rep->asked_start_ms) {
		util_format_elapsed(rep->end_ms - rep->asked_start_ms, asked,
		    sizeof(asked));
		fprintf(f, "  the history starts at the window's start; %s "
		    "was asked for\n", asked);
	}
	if (rep->end_ms - rep->history_end_ms > slack) {
		tz_format_long(rep->history_end_ms, last, sizeof(last));
		fprintf(f, "  %sthe history ends at %s: nothing recorded after "
		    "it\n", rep->last_tick_ms == 0 ? "no sample in the window; " :
		    "", last);
	}
}

/* A filter changes what every number means: said before any of them. */
static void
write_filtered(FILE *f, const struct report *rep)
{
	if (rep->filtered[0] == '\0')
		return;
	fputs("Filtered: ", f);
	put_cell(f, rep->filtered, 0);
	fprintf(f, " %s %s1-%s3 count only the GPUs at the ticks these "
	    "processes held them\n", g->dash, g->section, g->section);
}

/*
 * What else narrows the numbers, said where the filter is: one GPU
 * (--gpu), and thresholds that are not the defaults, which change what
 * active and idle-held mean.
 */
static void
write_scope(FILE *f, const struct report *rep)
{
	if (rep->only_gpu[0] != '\0') {
		fputs("GPU: ", f);
		put_cell(f, rep->only_gpu, 0);
		fprintf(f, " only (--gpu) %s every number counts this GPU "
		    "alone\n", g->dash);
	}
	if (!classify_is_default(&rep->thr))
		fprintf(f, "Thresholds: active at >= %d%% utilization, held "
		    "above %lld MiB (defaults %d%%, %d MiB)\n",
		    rep->thr.active_util, (long long)rep->thr.held_mib,
		    THRESHOLD_ACTIVE_UTIL, THRESHOLD_HELD_MIB);
}

static void
write_header(FILE *f, const struct report *rep)
{
	fprintf(f, "gua %s ", g->dash);
	if (rep->nhosts > 1) {
		fprintf(f, "%zu hosts\n", rep->nhosts);
		write_window(f, rep);
		write_filtered(f, rep);
		write_scope(f, rep);
		write_hosts(f, rep);
		return;
	}
	put_cell(f, rep->meta.hostname, 0);
	fputs(" (bare, driver ", f);
	put_cell(f, rep->meta.driver_version[0] ? rep->meta.driver_version :
	    "unknown", 0);
	fputs(")\n", f);
	write_window(f, rep);
	write_filtered(f, rep);
	write_scope(f, rep);
}

static void
write_headline(FILE *f, const struct report *rep, int width)
{
	const struct rollup_gpu *t = &rep->total;
	int cells[3];
	double cov;

	heading(f, "1 Headline");
	if (rollup_gpu_known_n(t) == 0) {
		fputs("  (no samples in window)\n", f);
		return;
	}
	report_text_bar_cells(t, width, cells);
	fputs("  ", f);
	put_state(f, SGR_ACTIVE, g->state[0], cells[0]);
	put_state(f, SGR_IDLE_HELD, g->state[1], cells[1]);
	put_state(f, SGR_TRULY_IDLE, g->state[2], cells[2]);
	fputc('\n', f);
	fputs("  active       ", f);
	put_state(f, SGR_ACTIVE, g->state[0], 1);
	fprintf(f, "  %5.1f%%\n", 100 * report_share(t, STATE_ACTIVE));
	fputs("  idle-held    ", f);
	put_state(f, SGR_IDLE_HELD, g->state[1], 1);
	fprintf(f, "  %5.1f%%       %s "
	    "this is the number conventional tools miss\n",
	    100 * report_share(t, STATE_IDLE_HELD), g->arrow);
	fputs("  truly-idle   ", f);
	put_state(f, SGR_TRULY_IDLE, g->state[2], 1);
	fprintf(f, "  %5.1f%%\n", 100 * report_share(t, STATE_TRULY_IDLE));
	fprintf(f, "  (%lld sample%s)\n", (long long)rollup_gpu_known_n(t),
	    rollup_gpu_known_n(t) == 1 ? "" : "s");
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

/*
 * With --cost-per-gpu-hour: what the idle-held GPU-hours cost, and all
 * the observed ones. A price without a currency says where it came from
 * rather than guess a symbol.
 */
static void
write_cost(FILE *f, const struct report *rep)
{
	char rate[32], idle[48], all[48];

	if (!rep->price.set)
		return;
	price_format_rate(&rep->price, rate, sizeof(rate));
	report_money(rep, price_cents(&rep->price,
	    rep->total.ms[STATE_IDLE_HELD]), idle, sizeof(idle));
	report_money(rep, price_cents(&rep->price,
	    rollup_gpu_known_ms(&rep->total)), all, sizeof(all));
	if (rep->price.currency[0] != '\0')
		fprintf(f, "  idle-held cost %s, of %s for all %.2f observed "
		    "GPU-hours (at %s %s a GPU-hour)\n", idle, all,
		    (double)rollup_gpu_known_ms(&rep->total) / MS_PER_HOUR,
		    rate, rep->price.currency);
	else
		fprintf(f, "  idle-held cost %s, of %s for all %.2f observed "
		    "GPU-hours (per --cost-per-gpu-hour %s)\n", idle, all,
		    (double)rollup_gpu_known_ms(&rep->total) / MS_PER_HOUR,
		    rate);
}

#define ENERGY_WHY	"older data, or a GPU with neither energy counter " \
			"nor power reading"

/*
 * §2's energy: what the idle-held time drew beside the rest, and a word
 * on the time whose energy was not recorded (it is not 0 kWh).
 */
static void
write_energy(FILE *f, const struct rollup_gpu *r)
{
	double un = report_energy_unrecorded(r);
	char held[48], free_[48], busy[48], unk[80], all[48];

	if (un >= 1) {
		fprintf(f, "  energy not recorded (%s)\n", ENERGY_WHY);
		return;
	}
	report_kwh_format(r->energy_j[STATE_IDLE_HELD], held, sizeof(held));
	report_kwh_format(r->energy_j[STATE_TRULY_IDLE], free_,
	    sizeof(free_));
	report_kwh_format(r->energy_j[STATE_ACTIVE], busy, sizeof(busy));
	report_kwh_format(rollup_gpu_energy_j(r), all, sizeof(all));
	/* Energy of ticks whose state is unknown is in the whole: said,
	   so that the parts add up. */
	unk[0] = '\0';
	if (r->energy_j[STATE_UNKNOWN] != 0) {
		char k[48];

		report_kwh_format(r->energy_j[STATE_UNKNOWN], k, sizeof(k));
		snprintf(unk, sizeof(unk), ", %s of unknown state", k);
	}
	fprintf(f, "  %s idle-held, %s truly idle, %s active%s: %s drawn in "
	    "all\n", held, free_, busy, unk, all);
	if (un > 0)
		fprintf(f, "  energy not recorded for %.1f%% of the observed "
		    "time (%s): not in these kWh\n", 100 * un, ENERGY_WHY);
}

/* Idle-held time is the waste; truly idle time is free capacity, no
   waste at all: each has its own line. */
static void
write_waste(FILE *f, const struct report *rep)
{
	heading(f, "2 Waste");
	if (rollup_gpu_known_n(&rep->total) == 0) {
		fputs("  (no samples in window)\n", f);
		return;
	}
	fprintf(f, "  ~%.2f GPU-hours idle-held, ~%.2f GPUs equivalently: "
	    "held by processes and unused, the waste\n",
	    (double)rep->total.ms[STATE_IDLE_HELD] / MS_PER_HOUR,
	    report_gpus_in(rep, STATE_IDLE_HELD));
	fprintf(f, "  ~%.2f GPU-hours truly idle, ~%.2f GPUs equivalently: "
	    "held by nobody, free capacity\n",
	    (double)rep->total.ms[STATE_TRULY_IDLE] / MS_PER_HOUR,
	    report_gpus_in(rep, STATE_TRULY_IDLE));
	write_energy(f, &rep->total);
	write_cost(f, rep);
}

#define MODEL_MAX_COLS	32	/* a GPU's model name: cut beyond */
#define UNKNOWN_NOTE	"  unknown throughout"	/* the longest note */

/* §3's line under a GPU: its kWh per state, when the report has any. */
static void
write_gpu_energy(FILE *f, const struct rollup_gpu *r, int w)
{
	double un = report_energy_unrecorded(r);
	char busy[48], held[48], free_[48];

	fprintf(f, "  %*s  energy", w, "");
	if (un >= 1) {
		fputs("  not recorded\n", f);
		return;
	}
	report_kwh_format(r->energy_j[STATE_ACTIVE], busy, sizeof(busy));
	report_kwh_format(r->energy_j[STATE_IDLE_HELD], held, sizeof(held));
	report_kwh_format(r->energy_j[STATE_TRULY_IDLE], free_,
	    sizeof(free_));
	fprintf(f, "  active %s  idle-held %s  truly-idle %s", busy, held,
	    free_);
	if (un > 0)
		fprintf(f, "  not recorded for %.1f%%", 100 * un);
	fputc('\n', f);
}

/* §3: the shares of each GPU, then its model and memory. */
static void
write_per_gpu(FILE *f, const struct report *rep)
{
	char label[256], mem[32];
	int w = gpu_label_width(rep, 8), nw = 0;
	int energy = report_energy_unrecorded(&rep->total) < 1;
	size_t mw = 0;

	heading(f, "3 Per-GPU");
	if (rep->ngpus == 0) {
		fputs("  (no samples in window)\n", f);
		return;
	}
	for (size_t i = 0; i < rep->ngpus; i++) {
		size_t c = columns(rep->gpus[i].info.name);

		if (c > mw)
			mw = c > MODEL_MAX_COLS ? MODEL_MAX_COLS : c;
		if (rep->gpus[i].r.n[STATE_UNKNOWN] > 0)
			nw = (int)strlen(UNKNOWN_NOTE);
	}
	for (size_t i = 0; i < rep->ngpus; i++) {
		const struct report_gpu *gp = &rep->gpus[i];
		const struct rollup_gpu *r = &gp->r;
		const char *note;

		gpu_label(rep, i, label, sizeof(label));
		report_memory_format(gp->info.mem_total_mib, mem, sizeof(mem));
		fputs("  ", f);
		put_label(f, label, w);
		fprintf(f, "  active %5.1f%%  idle-held %5.1f%%  "
		    "truly-idle %5.1f%%",
		    100 * report_share(r, STATE_ACTIVE),
		    100 * report_share(r, STATE_IDLE_HELD),
		    100 * report_share(r, STATE_TRULY_IDLE));
		note = r->n[STATE_UNKNOWN] == 0 ? "" :
		    rollup_gpu_known_n(r) ? "  unknown for part" :
		    UNKNOWN_NOTE;
		/* An imported GPU may have neither: nothing then. */
		if (gp->info.name[0] == '\0' && mem[0] == '\0')
			fprintf(f, "%s\n", note);
		else {
			fprintf(f, "%-*s  ", nw, note);
			put_cell(f, gp->info.name, mw);
			fprintf(f, "  %9s\n", mem);
		}
		if (energy)
			write_gpu_energy(f, r, w);
	}
}

/* "  … and 3 more (--top)" under a table --top cut. */
static void
write_more(FILE *f, size_t more)
{
	if (more > 0)
		fprintf(f, "  %s and %zu more (--top)\n", g->more, more);
}

/* An identity's name as §4 shows it: "user", "user@host" over several
   hosts, then where its processes ran when they share it. Raw text. */
static void
identity_label(const struct report *rep, const struct report_identity *id,
    char *buf, size_t len)
{
	char user[512], place[256];

	/* "alice@gpu01", but "gpu01", not "gpu01@gpu01", by host, and a
	   GPU "gpu01/GPU-0", as the rest of the report names it. */
	if (rep->nhosts > 1 && rep->by == REPORT_KEY_GPU)
		snprintf(user, sizeof(user), "%s/%s",
		    rep->hosts[id->host].hostname, id->name);
	else if (rep->nhosts > 1 && rep->by != REPORT_KEY_HOST)
		snprintf(user, sizeof(user), "%s@%s", id->name,
		    rep->hosts[id->host].hostname);
	else
		util_strlcpy(user, id->name, sizeof(user));
	report_identity_place(rep, id, place, sizeof(place));
	if (place[0] != '\0')
		snprintf(buf, len, "%s (%s)", user, place);
	else
		util_strlcpy(buf, user, len);
}

static void
write_identities(FILE *f, const struct report *rep)
{
	char label[1024], title[96];
	size_t w = 20;

	heading(f, "4 Top identities (by idle-held GPU-hours)");
	if (rep->nids_all == 0) {
		fputs(rollup_gpu_known_n(&rep->total) == 0 ?
		    "  (no samples in window)\n" :
		    "  (no process held a GPU in window)\n", f);
		return;
	}
	/* Wider for where the processes ran, when a name says it. */
	for (size_t i = 0; i < rep->nids; i++) {
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
	put_cell(f, report_key_name(rep->by), w);
	snprintf(title, sizeof(title), "idle GiB%sh", g->times);
	fprintf(f, "  gpu-hours   idle-held   share  %s    SM %%%s\n", title,
	    rep->price.set ? "  idle-held cost" : "");
	for (size_t i = 0; i < rep->nids; i++) {
		const struct report_identity *id = &rep->ids[i];
		char sm[16], money[48];

		fputs("  ", f);
		identity_label(rep, id, label, sizeof(label));
		put_cell(f, label, w);
		format_sm(report_identity_util(id), sm, sizeof(sm));
		fprintf(f, "  %9.2f   %9.2f  %5.1f%%  %10.2f  %s",
		    (double)id->ms / MS_PER_HOUR,
		    (double)id->idle_ms / MS_PER_HOUR,
		    id->ms ? 100.0 * (double)id->idle_ms / (double)id->ms : 0,
		    (double)id->idle_mib_ms / 1024 / MS_PER_HOUR, sm);
		if (rep->price.set)
			fprintf(f, "  %14s", report_money(rep,
			    price_cents(&rep->price, id->idle_ms), money,
			    sizeof(money)));
		fputc('\n', f);
	}
	write_more(f, report_ids_omitted(rep));
}

/*
 * A grid of 24 two-column cells per weekday. Its header labels every
 * third hour with two digits at its cell ("00    03    06 …"): one digit a
 * cell read "0 1 … 9 0 1".
 */
static void
write_grid(FILE *f, const struct report *rep, enum state s)
{
	fputs("        ", f);
	for (int h = 0; h < 24; h += 3)
		fprintf(f, "%02d%s", h, h < 21 ? "    " : "\n");
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
	char title[192];

	snprintf(title, sizeof(title), "5 Time-of-day heatmap (%s)",
	    tz_name());
	heading(f, title);
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

#define COMMAND_MIN_COLS	20	/* a command line gets at least these */

/* Columns of the widest of the shown idle-held sessions' user (with
   where it ran) and GPU label. */
static void
session_widths(const struct report *rep, size_t *uw, int *gw)
{
	char who[1024], label[256];

	for (size_t i = 0; i < rep->nsessions &&
	    rep->sessions[i].r.idle_ms > 0; i++) {
		const struct report_session *s = &rep->sessions[i];
		size_t c;

		who_label(s->who.user[0] ? s->who.user : "unknown",
		    s->who.container, s->who.pod, s->who.unit,
		    s->who.slurm_job, who, sizeof(who));
		c = columns(who);
		if (c > *uw)
			*uw = c > WHO_MAX_COLS ? WHO_MAX_COLS : c;
		gpu_label(rep, s->gpu, label, sizeof(label));
		if (escaped_cols(label) > *gw)
			*gw = escaped_cols(label);
	}
}

/*
 * The idle-held sessions --top shows. The command line comes last, cut to
 * what the terminal's width leaves of it: enough to tell two notebooks of
 * one interpreter apart (python3 -m jupyter … a.ipynb, … b.ipynb).
 */
static void
write_sessions(FILE *f, const struct report *rep, int term_cols)
{
	size_t shown = 0, uw = 10;
	int gw = 6, tw, used, cmd_cols;
	char who[1024], col[96];

	heading(f, "6 Idle-held sessions (longest first)");
	if (rollup_gpu_known_n(&rep->total) == 0) {
		fputs("  (no samples in window)\n", f);
		return;
	}
	/* Columns as wide as the rows shown need: where a process ran goes
	   beside its user, a MIG instance's label and a host's are longer. */
	session_widths(rep, &uw, &gw);
	tz_format_datetime(0, col, sizeof(col));
	tw = (int)strlen(col);
	snprintf(col, sizeof(col), "first seen (%s)", tz_name());
	if ((int)strlen(col) > tw)
		tw = (int)strlen(col);
	/* What a row prints before its command: "  USER _PID__GPU__PEAK
	   __IDLE__SM__FIRST__LAST__ALIVE__", as the fprintfs below. */
	used = 2 + (int)uw + 9 + gw + 10 + 12 + 8 + 2 * (tw + 2) + 9;
	cmd_cols = term_cols - used;
	if (cmd_cols < COMMAND_MIN_COLS)
		cmd_cols = COMMAND_MIN_COLS;
	for (size_t i = 0; i < rep->nsessions; i++) {
		const struct report_session *s = &rep->sessions[i];
		char label[256], idle[64], first[48], last[48], sm[16];

		if (s->r.idle_ms == 0)
			break;	/* ranked: the rest held nothing idle */
		if (shown++ == 0) {
			fputs("  ", f);
			put_cell(f, "user", uw);
			fprintf(f, "    pid  %-*s  peak MiB   idle-held    SM %%  ",
			    gw, "gpu");
			snprintf(col, sizeof(col), "first seen (%s)",
			    tz_name());
			fprintf(f, "%-*s  ", tw, col);
			snprintf(col, sizeof(col), "last seen (%s)", tz_name());
			fprintf(f, "%-*s  alive  command\n", tw, col);
		}
		gpu_label(rep, s->gpu, label, sizeof(label));
		format_sm(report_session_util(s), sm, sizeof(sm));
		util_format_elapsed(s->r.idle_ms, idle, sizeof(idle));
		tz_format_datetime(s->r.first_ms, first, sizeof(first));
		tz_format_datetime(s->r.last_ms, last, sizeof(last));
		fputs("  ", f);
		who_label(s->who.user[0] ? s->who.user : "unknown",
		    s->who.container, s->who.pod, s->who.unit,
		    s->who.slurm_job, who, sizeof(who));
		put_cell(f, who, uw);
		fprintf(f, " %6u  ", s->pid);
		put_label(f, label, gw);
		if (s->r.peak_mib == MIB_UNKNOWN)
			fprintf(f, "  %8s", "unknown");
		else
			fprintf(f, "  %8lld", (long long)s->r.peak_mib);
		fprintf(f, "  %10s  %s  %-*s  %-*s  %-5s  ", idle, sm, tw, first,
		    tw, last, s->alive ? "yes" : "no");
		/* The command line, else the kernel's name for it. */
		put_tail(f, s->who.cmdline[0] ? s->who.cmdline :
		    s->who.comm[0] ? s->who.comm : "?", (size_t)cmd_cols);
		fputc('\n', f);
	}
	if (shown == 0)
		fputs("  (no process held memory idle in window)\n", f);
	write_more(f, report_sessions_omitted(rep, 1));
}

/* Whether the locale's character set (LC_CTYPE from the environment) is
   UTF-8. Only LC_CTYPE is looked at, and put back after: numbers keep
   the C locale's decimal point. */
static int
locale_utf8(void)
{
	const char *cur = setlocale(LC_CTYPE, NULL);
	char saved[256];
	int utf8 = 0;

	util_strlcpy(saved, cur != NULL ? cur : "C", sizeof(saved));
	if (setlocale(LC_CTYPE, "") != NULL) {
		const char *cs = nl_langinfo(CODESET);

		utf8 = strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0;
	}
	setlocale(LC_CTYPE, saved);
	return utf8;
}

int
report_text_columns(FILE *f)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	long long v;

	if (f != NULL && isatty(fileno(f)) &&
	    ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (env != NULL && util_parse_ll(env, 1, 100000, &v) == 0)
		return (int)v;
	return TEXT_COLUMNS_DEFAULT;
}

void
report_text_defaults(struct text_options *o, FILE *f)
{
	memset(o, 0, sizeof(*o));
	o->width = TEXT_WIDTH_DEFAULT;
	o->ascii = !locale_utf8();
	o->columns = report_text_columns(f);
}

int
report_text_write(FILE *f, const struct report *rep,
    const struct text_options *o)
{
	colour = o->colour;
	ascii = o->ascii;
	g = ascii ? &ascii_glyphs : &utf8_glyphs;
	write_header(f, rep);
	write_headline(f, rep, o->width);
	write_waste(f, rep);
	write_per_gpu(f, rep);
	write_identities(f, rep);
	write_heatmaps(f, rep);
	write_sessions(f, rep, o->columns > 0 ? o->columns :
	    TEXT_COLUMNS_DEFAULT);
	fflush(f);
	return ferror(f) ? -1 : 0;
}
