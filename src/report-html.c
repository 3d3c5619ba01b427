/*
 * The HTML writer. All text from the database (host names, GPU names, user
 * names, commands) goes through escape_html_write, in text and attributes
 * alike; everything else written here is numbers and fixed markup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "report-html.h"
#include "tz.h"
#include "util.h"
#include "version.h"

#define CHART_W		880	/* width of every chart, pixels */
#define LABEL_W		160	/* room for GPU labels left of the bars */
#define BAR_W		(CHART_W - LABEL_W)
#define BAR_H		22
#define ROW_H		30
/* Coverage under this is a warning beside the numbers, not a note. */
#define LOW_COVERAGE	0.9
/* A timeline's time labels stand at least this far apart, pixels. */
#define TICK_GAP	110

static const char *const state_keys[3] = { "active", "idle_held",
	"truly_idle" };
static const char *const state_words[3] = { "active", "idle-held",
	"truly idle" };
/*
 * The heatmaps' colour scales: ten steps of 10 %, light to dark, one
 * sequential multi-hue scale per state, so that neighbouring steps (20 %
 * and 30 %) differ in hue and lightness both. The legend shows the steps.
 */
#define HEAT_STEPS	10
static const char *const heat_active[HEAT_STEPS] = { "#ffffd9", "#edf8b1",
	"#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494",
	"#172a70", "#081d58" };
static const char *const heat_idle_held[HEAT_STEPS] = { "#fff7bc",
	"#fee391", "#fec44f", "#fe9929", "#ec7014", "#cc4c02", "#a33a03",
	"#8c2d04", "#662506", "#401802" };

static const char *const weekdays[7] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	"Fri", "Sat" };

static const char style[] =
    "body{font:14px/1.45 system-ui,sans-serif;color:#222;margin:2em auto;"
    "max-width:1000px;padding:0 1em}"
    "h1{font-size:1.5em;margin:0}h2{font-size:1.15em;margin:1.6em 0 .5em;"
    "border-bottom:1px solid #ddd}"
    ".sub{color:#555;margin:.2em 0 0}"
    "svg{display:block}"
    /* Charts and tables keep their size and scroll inside their box on a
       narrow screen: the page itself never scrolls sideways. */
    ".chart,.table{overflow-x:auto;max-width:100%}"
    "svg text{font:12px system-ui,sans-serif;fill:#333}"
    ".active{fill:#2e7d32}.idle_held{fill:#ef6c00}.truly_idle{fill:#b0bec5}"
    ".none{fill:#f3f3f3}"
    ".legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;"
    "gap:.3em 1.5em;margin:.4em 0}"
    ".scale{list-style:none;padding:0;display:flex;flex-wrap:wrap;"
    "gap:.2em .6em;margin:.3em 0 1em;font-size:12px}"
    ".scale li{white-space:nowrap}"
    "#headline-bar{max-width:880px}"
    ".warn{background:#fff4e5;border-left:4px solid #ef6c00;"
    "padding:.4em .8em}"
    ".note{color:#555}"
    ".sw{display:inline-block;width:.9em;height:.9em;margin-right:.35em;"
    "vertical-align:-.1em}"
    ".sw.active{background:#2e7d32}.sw.idle_held{background:#ef6c00}"
    ".sw.truly_idle{background:#b0bec5}.sw.none-sw{background:#f3f3f3;"
    "outline:1px solid #ddd}"
    "h3{font-size:1em;margin:1em 0 .3em}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    /* A cell never breaks: a label, a command, a duration or a time
       reads on one line; a long command is cut, whole in its title. */
    "th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid #eee;"
    "vertical-align:top;white-space:nowrap}"
    "td.warn{padding:.25em .5em}"
    /* The per-GPU bars: as wide as the other charts on a screen, the
       numbers beside them kept in view on a phone. */
    ".bars{max-width:880px}.bars td.bar{width:100%;min-width:3em}"
    ".bars th,.bars td{padding:.25em .3em}.model{font-size:11px;color:#666}"
    "@media (max-width:600px){.bars th,.model{white-space:normal}}"
    ".bars td.bar svg{display:block}"
    ".bars tr.busy-card-note td{white-space:normal;color:#555;"
    "font-size:12px}"
    "#sessions-table{font-size:12px}"
    ".cmd{display:inline-block;max-width:16em;overflow:hidden;"
    "text-overflow:ellipsis;vertical-align:bottom}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "code{font-size:12px}"
    ".big{font-size:1.25em}.muted{color:#666}"
    "footer{margin-top:2em;color:#777;font-size:12px}";

static void
esc(FILE *f, const char *s)
{
	escape_html_write(f, s);
}

/* "GPU-0" ("GPU-0/MIG-c6d4"), or "host/GPU-0" in a report over several
   hosts; escaped. */
static void
gpu_label(FILE *f, const struct report *rep, const struct report_gpu *g)
{
	char label[96];

	if (rep->nhosts > 1) {
		esc(f, rep->hosts[g->host].hostname);
		fputc('/', f);
	}
	esc(f, report_gpu_label(rep, (size_t)(g - rep->gpus), label,
	    sizeof(label)));
}

/* " (container 3f2a1b4c5d6e)" after a name, muted; nothing if "". */
static void
muted_place(FILE *f, const char *where)
{
	if (where[0] == '\0')
		return;
	fputs(" <span class=\"muted\">(", f);
	esc(f, where);
	fputs(")</span>", f);
}

/* Where a session's process ran, after its user. */
static void
place(FILE *f, const char *container, const char *pod, const char *unit,
    const char *slurm_job)
{
	char buf[256];

	muted_place(f, report_place(container, pod, unit, slurm_job, buf,
	    sizeof(buf)));
}

static void
write_head(FILE *f, const struct report *rep)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\""
	    "default-src 'none'; style-src 'unsafe-inline'\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n", f);
	fprintf(f, "<meta name=\"generator\" content=\"gua %s\">\n",
	    GUA_VERSION);
	fputs("<title>gua \xe2\x80\x94 ", f);
	if (rep->nhosts == 1)
		esc(f, rep->hosts[0].hostname);
	else
		fprintf(f, "%zu hosts", rep->nhosts);
	fprintf(f, "</title>\n<style>%s", style);
	for (int i = 0; i < HEAT_STEPS; i++)
		fprintf(f, ".ha%d{fill:%s;background:%s}"
		    ".hi%d{fill:%s;background:%s}", i, heat_active[i],
		    heat_active[i], i, heat_idle_held[i], heat_idle_held[i]);
	fputs("</style>\n</head>\n<body>\n", f);
}

static void
write_header(FILE *f, const struct report *rep)
{
	char start[32], end[32], window[64];
	int64_t last = rep->end_ms - 1 < rep->start_ms ? rep->start_ms :
	    rep->end_ms - 1;

	tz_format_datetime(rep->start_ms, start, sizeof(start));
	tz_format_datetime(last, end, sizeof(end));
	util_format_elapsed(last - rep->start_ms, window, sizeof(window));
	fputs("<header>\n<h1>gua \xe2\x80\x94 ", f);
	if (rep->nhosts == 1) {
		esc(f, rep->hosts[0].hostname);
		fputs("</h1>\n<p class=\"sub\">bare, driver ", f);
		esc(f, rep->hosts[0].driver_version[0] ?
		    rep->hosts[0].driver_version : "unknown");
		fputs(" \xc2\xb7 ", f);
	} else {
		fprintf(f, "%zu hosts</h1>\n<p class=\"sub\">", rep->nhosts);
	}
	fprintf(f, "window %s \xe2\x80\x93 %s %s (%s)", start, end, tz_name(),
	    window);
	if (rep->hourly_end_ms > rep->hourly_start_ms) {
		tz_format_datetime(rep->hourly_start_ms, start, sizeof(start));
		tz_format_datetime(rep->hourly_end_ms - 1, end, sizeof(end));
		fprintf(f, " \xc2\xb7 hourly only %s \xe2\x80\x93 %s (raw "
		    "ticks compacted)", start, end);
	}
	if (rep->ngpus > 0)
		fprintf(f, " \xc2\xb7 coverage <span id=\"coverage\" "
		    "data-ratio=\"%.6f\">%.1f%%</span>", report_coverage(rep),
		    100 * report_coverage(rep));
	fputs("</p>\n", f);
	/* A filter changes what every number means. */
	if (rep->filtered[0] != '\0') {
		fputs("<p class=\"sub\" id=\"filtered\">Filtered: ", f);
		esc(f, rep->filtered);
		fputs(" \xe2\x80\x94 \xc2\xa7" "1\xe2\x80\x93\xc2\xa7" "3 count "
		    "only the GPUs at the ticks these processes held them</p>\n",
		    f);
	}
	/* So does one GPU, and thresholds not the defaults. */
	if (rep->only_gpu[0] != '\0') {
		fputs("<p class=\"sub\" id=\"only-gpu\">GPU: ", f);
		esc(f, rep->only_gpu);
		fputs(" only (--gpu) \xe2\x80\x94 every number counts this GPU "
		    "alone</p>\n", f);
	}
	if (!classify_is_default(&rep->thr))
		fprintf(f, "<p class=\"sub\" id=\"thresholds\">Thresholds: "
		    "active at \xe2\x89\xa5 %d%% utilization, held above %lld "
		    "MiB (defaults %d%%, %d MiB)</p>\n", rep->thr.active_util,
		    (long long)rep->thr.held_mib, THRESHOLD_ACTIVE_UTIL,
		    THRESHOLD_HELD_MIB);
	fputs("</header>\n", f);
}

/*
 * A horizontal stacked bar of the three shares at (x, y), each part with
 * its state and share in data attributes and a <title>.
 */
static void
stacked_bar(FILE *f, const struct rollup_gpu *r, double x, double y,
    double w, double h, const char *what)
{
	double at = x;

	if (rollup_gpu_known_ms(r) == 0) {
		fprintf(f, "<rect class=\"none\" x=\"%.2f\" y=\"%.2f\" "
		    "width=\"%.2f\" height=\"%.2f\"><title>%s: no samples"
		    "</title></rect>\n", x, y, w, h, what);
		return;
	}
	for (int s = 0; s < 3; s++) {
		double share = report_share(r, (enum state)s);

		fprintf(f, "<rect class=\"%s\" x=\"%.2f\" y=\"%.2f\" "
		    "width=\"%.2f\" height=\"%.2f\" data-state=\"%s\" "
		    "data-share=\"%.6f\"><title>%s: %s %.1f%%</title></rect>\n",
		    state_keys[s], at, y, share * w, h, state_keys[s], share,
		    what, state_words[s], 100 * share);
		at += share * w;
	}
}

static void
legend(FILE *f, const struct rollup_gpu *t)
{
	fputs("<ul class=\"legend\">", f);
	for (int s = 0; s < 3; s++)
		fprintf(f, "<li><span class=\"sw %s\"></span>%s <b>%.1f%%</b>"
		    "</li>", state_keys[s], state_words[s],
		    100 * report_share(t, (enum state)s));
	fputs("</ul>\n", f);
}

/*
 * Beside the numbers, not only in the subtitle: how much of the window
 * was observed, when it was not all of it, as a warning when it is low.
 * The shares are of the observed time, so a reader must know how little
 * that may be.
 */
static void
coverage_warning(FILE *f, const struct report *rep)
{
	double cov = report_coverage(rep);
	char gap[64];

	if (cov >= 0.9995)
		return;
	util_format_elapsed(report_unobserved_ms(rep), gap, sizeof(gap));
	fprintf(f, "<p id=\"coverage-warning\" class=\"%s\">%s %.1f%% of "
	    "the window's GPU time was observed; %s of it was not (collector "
	    "down, GPU unreadable or its utilization unknown). The shares and "
	    "hours below are of the observed time only.</p>\n",
	    cov < LOW_COVERAGE ? "warn" : "note",
	    cov < LOW_COVERAGE ? "<b>Low coverage:</b> only" : "Coverage:",
	    100 * cov, gap);
}

static void
write_headline(FILE *f, const struct report *rep)
{
	const struct rollup_gpu *t = &rep->total;

	fputs("<section id=\"headline\">\n<h2>\xc2\xa7" "1 Headline</h2>\n",
	    f);
	if (rollup_gpu_known_n(t) == 0) {
		fputs("<p>(no samples in window)</p>\n</section>\n", f);
		return;
	}
	coverage_warning(f, rep);
	/* As wide as the other charts, narrower on a narrow screen: the
	   legend under it gives the numbers. */
	fprintf(f, "<div class=\"chart\"><svg id=\"headline-bar\" "
	    "role=\"img\" aria-label=\"active %.1f%%, idle-held %.1f%%, truly "
	    "idle %.1f%%\" width=\"100%%\" height=\"40\" viewBox=\"0 0 %d 40\" "
	    "preserveAspectRatio=\"none\">\n",
	    100 * report_share(t, STATE_ACTIVE),
	    100 * report_share(t, STATE_IDLE_HELD),
	    100 * report_share(t, STATE_TRULY_IDLE), CHART_W);
	stacked_bar(f, t, 0, 0, CHART_W, 40, "all GPUs");
	fputs("</svg></div>\n", f);
	legend(f, t);
	fprintf(f, "<p class=\"muted\">Idle-held: memory held while the GPU "
	    "computes nothing \xe2\x80\x94 the number conventional tools miss. "
	    "<span id=\"samples\" data-samples=\"%lld\">%lld sample%s</span>"
	    "</p>\n</section>\n", (long long)rollup_gpu_known_n(t),
	    (long long)rollup_gpu_known_n(t),
	    rollup_gpu_known_n(t) == 1 ? "" : "s");
}

/*
 * With --cost-per-gpu-hour, under §2: what the idle-held GPU-hours cost,
 * of what all the observed ones did; the section ends here either way.
 * The currency is three capital letters (checked), else the price's
 * origin is said: no symbol is guessed.
 */
static void
write_cost(FILE *f, const struct report *rep)
{
	char rate[32], idle[48], all[48];
	int64_t idle_c, all_c;

	if (rep->price.set) {
		idle_c = price_cents(&rep->price, rep->total.ms[STATE_IDLE_HELD]);
		all_c = price_cents(&rep->price,
		    rollup_gpu_known_ms(&rep->total));
		price_format_rate(&rep->price, rate, sizeof(rate));
		fprintf(f, "<p id=\"cost\">idle-held cost <b "
		    "id=\"idle-held-cost\" data-value=\"%lld.%02lld\">%s</b>, "
		    "of <span id=\"observed-cost\">%s</span> for all %.2f "
		    "observed GPU-hours (%s%s%s%s%s)</p>\n",
		    (long long)(idle_c / 100), (long long)(idle_c % 100),
		    report_money(rep, idle_c, idle, sizeof(idle)),
		    report_money(rep, all_c, all, sizeof(all)),
		    (double)rollup_gpu_known_ms(&rep->total) / MS_PER_HOUR,
		    rep->price.currency[0] ? "at " : "per --cost-per-gpu-hour ",
		    rate, rep->price.currency[0] ? " " : "",
		    rep->price.currency, rep->price.currency[0] ?
		    " a GPU-hour" : "");
	}
	fputs("</section>\n", f);
}

/*
 * Under §2: the energy the idle-held time drew beside the rest, each
 * number with its exact value in data-value (kWh); a word on the time
 * whose energy was not recorded (unknown, not 0 kWh).
 */
static void
write_energy(FILE *f, const struct rollup_gpu *r)
{
	static const char *const ids[] = { "energy-active", "energy-idle-held",
		"energy-truly-idle", "energy-unknown-state" };
	static const char *const words[] = { "active", "idle-held",
		"truly idle", "of unknown state" };
	/* Unknown state last, and only when it drew anything: it is in
	   the whole, and the parts add up. */
	static const int order[] = { STATE_IDLE_HELD, STATE_TRULY_IDLE,
		STATE_ACTIVE, STATE_UNKNOWN };
	double un = report_energy_unrecorded(r);
	char kwh[48];

	if (un >= 1) {
		fputs("<p id=\"energy\" class=\"note\">energy not recorded "
		    "(older data, or GPUs with neither energy counter nor power "
		    "reading)</p>\n", f);
		return;
	}
	fputs("<p id=\"energy\">energy: ", f);
	for (int i = 0; i < 4; i++) {
		int st = order[i];

		if (st == STATE_UNKNOWN && r->energy_j[st] == 0)
			continue;
		report_kwh_format(r->energy_j[st], kwh, sizeof(kwh));
		fprintf(f, "%s<b id=\"%s\" data-value=\"%.6f\">%s</b> %s",
		    i ? ", " : "", ids[st], report_kwh(r->energy_j[st]), kwh,
		    words[st]);
	}
	report_kwh_format(rollup_gpu_energy_j(r), kwh, sizeof(kwh));
	fprintf(f, "; <span id=\"energy-total\" data-value=\"%.6f\">%s"
	    "</span> in all", report_kwh(rollup_gpu_energy_j(r)), kwh);
	if (un > 0)
		fprintf(f, " <span id=\"energy-unrecorded\" class=\"note\" "
		    "data-value=\"%.6f\">(not recorded for %.1f%% of the "
		    "observed time: older data, or a GPU with neither energy "
		    "counter nor power reading)</span>", un, 100 * un);
	fputs("</p>\n", f);
}

/*
 * One line of §2, as the text report has it: the GPU-hours in one idle
 * state and the GPUs they equal, the idle-held line (the waste) the big
 * one. Truly idle time is free capacity: the two are never summed into
 * one "idle" figure.
 */
static void
waste_line(FILE *f, const struct report *rep, enum state s,
    const char *id, const char *what)
{
	double h = (double)rep->total.ms[s] / MS_PER_HOUR;
	double n = report_gpus_in(rep, s);

	fprintf(f, "<p%s><b id=\"%s-gpu-hours\" data-value=\"%.6f\">"
	    "~%.2f</b> GPU-hours %s, <b id=\"%s-gpus\" data-value=\"%.6f\">"
	    "~%.2f</b> GPUs equivalently: %s</p>\n",
	    s == STATE_IDLE_HELD ? " class=\"big\"" : "", id, h, h,
	    state_words[s], id, n, n, what);
}

static void
write_waste(FILE *f, const struct report *rep)
{
	fputs("<section id=\"waste\">\n<h2>\xc2\xa7" "2 Waste</h2>\n", f);
	if (rollup_gpu_known_n(&rep->total) == 0) {
		fputs("<p>(no samples in window)</p>\n</section>\n", f);
		return;
	}
	waste_line(f, rep, STATE_IDLE_HELD, "idle-held",
	    "held by processes and unused, the waste");
	waste_line(f, rep, STATE_TRULY_IDLE, "truly-idle",
	    "held by nobody, free capacity");
	write_energy(f, &rep->total);
	write_cost(f, rep);
}

static void
write_hosts(FILE *f, const struct report *rep)
{
	if (rep->nhosts <= 1)
		return;
	fputs("<section id=\"hosts\">\n<h2>Hosts</h2>\n<div class=\"table\">"
	    "<table>\n<tr><th>host"
	    "</th><th>driver</th><th class=\"n\">GPUs</th><th class=\"n\">"
	    "active</th><th class=\"n\">idle-held</th><th class=\"n\">"
	    "truly idle</th><th class=\"n\">samples</th><th class=\"n\">"
	    "coverage</th></tr>\n", f);
	for (size_t i = 0; i < rep->nhosts; i++) {
		const struct report_host *h = &rep->hosts[i];

		fputs("<tr><td>", f);
		esc(f, h->hostname);
		fputs("</td><td>", f);
		esc(f, h->driver_version[0] ? h->driver_version : "unknown");
		/* A host with no samples says so, not "0 GPUs 0.0%". */
		if (rollup_gpu_known_n(&h->total) == 0) {
			fputs("</td><td class=\"warn\" colspan=\"6\">no "
			    "samples in window</td></tr>\n", f);
			continue;
		}
		fprintf(f, "</td><td class=\"n\">%zu</td>", h->ngpus);
		for (int s = 0; s < 3; s++)
			fprintf(f, "<td class=\"n\">%.1f%%</td>",
			    100 * report_share(&h->total, (enum state)s));
		fprintf(f, "<td class=\"n\">%lld</td><td class=\"n%s\">%.1f%%"
		    "</td></tr>\n", (long long)rollup_gpu_known_n(&h->total),
		    report_host_coverage(h) < LOW_COVERAGE ? " warn" : "",
		    100 * report_host_coverage(h));
	}
	fputs("</table></div>\n</section>\n", f);
}

/*
 * The longest idle-held session on GPU g that the card's own idle-held
 * time does not cover, in ms; 0 when none. The card is classified by its
 * utilization and each process by its own, so a process can sit idle,
 * holding memory, on a card others keep busy: §6 lists it idle-held while
 * §3 shows the card active. Where that happens the page says so.
 */
static int64_t
busy_card_idle_session(const struct report *rep, size_t g)
{
	int64_t card = rep->gpus[g].r.ms[STATE_IDLE_HELD], most = 0;

	for (size_t i = 0; i < rep->nsessions; i++) {
		const struct report_session *s = &rep->sessions[i];

		if (s->gpu == g && s->r.idle_ms > card && s->r.idle_ms > most)
			most = s->r.idle_ms;
	}
	return most;
}

/*
 * One row per GPU: its label, its bar, and its three shares written out
 * in their own columns. The bar stretches to the room the numbers leave,
 * so that on a phone the numbers stay on screen and the bar narrows.
 */
/* A GPU's kWh per state under its model, when the report has any. */
static void
gpu_energy(FILE *f, const struct rollup_gpu *r)
{
	double un = report_energy_unrecorded(r);
	char a[48], h[48], t[48];

	if (un >= 1) {
		fputs("<div class=\"model energy\">energy not recorded</div>",
		    f);
		return;
	}
	report_kwh_format(r->energy_j[STATE_ACTIVE], a, sizeof(a));
	report_kwh_format(r->energy_j[STATE_IDLE_HELD], h, sizeof(h));
	report_kwh_format(r->energy_j[STATE_TRULY_IDLE], t, sizeof(t));
	fprintf(f, "<div class=\"model energy\" data-active=\"%.6f\" "
	    "data-idle-held=\"%.6f\" data-truly-idle=\"%.6f\">%s active, "
	    "%s idle-held, %s truly idle", report_kwh(r->energy_j[
	    STATE_ACTIVE]), report_kwh(r->energy_j[STATE_IDLE_HELD]),
	    report_kwh(r->energy_j[STATE_TRULY_IDLE]), a, h, t);
	if (un > 0)
		fprintf(f, "; not recorded for %.1f%%", 100 * un);
	fputs("</div>", f);
}

static void
write_gpus(FILE *f, const struct report *rep)
{
	int notes = 0, energy = report_energy_unrecorded(&rep->total) < 1;

	fputs("<section id=\"gpus\">\n<h2>\xc2\xa7" "3 Per-GPU</h2>\n", f);
	if (rep->ngpus == 0) {
		fputs("<p>(no samples in window)</p>\n</section>\n", f);
		return;
	}
	fputs("<div class=\"table bars\"><table id=\"gpu-bars\">\n<tr><th>GPU"
	    "</th><th class=\"bar\">share of observed time</th><th class=\"n\">"
	    "active</th><th class=\"n\">idle-held</th><th class=\"n\">truly "
	    "idle</th></tr>\n", f);
	for (size_t i = 0; i < rep->ngpus; i++) {
		const struct report_gpu *g = &rep->gpus[i];
		int64_t odd = busy_card_idle_session(rep, i);
		char mem[32];

		fprintf(f, "<tr class=\"gpu\" data-index=\"%d\" data-uuid=\"",
		    g->info.index);
		esc(f, g->info.uuid);
		fputs("\" data-host=\"", f);
		esc(f, rep->hosts[g->host].hostname);
		fputs("\"><td title=\"", f);
		esc(f, g->info.uuid);
		fputs("\">", f);
		gpu_label(f, rep, g);
		if (odd > 0)
			fputs(" <span class=\"busy-card\">*</span>", f);
		/* Its model and memory under it, in small type that may
		   wrap: a long model name must not push the numbers off. */
		fputs("<div class=\"model\">", f);
		esc(f, g->info.name[0] ? g->info.name : "unknown model");
		if (report_memory_format(g->info.mem_total_mib, mem,
		    sizeof(mem))[0] != '\0')
			fprintf(f, ", %s", mem);
		fputs("</div>", f);
		if (energy)
			gpu_energy(f, &g->r);
		fprintf(f, "</td><td class=\"bar\"><svg role=\"img\" "
		    "aria-label=\"state shares\" width=\"100%%\" height=\"%d\" "
		    "viewBox=\"0 0 %d %d\" preserveAspectRatio=\"none\">", BAR_H,
		    BAR_W, BAR_H);
		stacked_bar(f, &g->r, 0, 0, BAR_W, BAR_H, "this GPU");
		fputs("</svg></td>", f);
		for (int st = 0; st < 3; st++) {
			if (rollup_gpu_known_ms(&g->r) == 0)
				fputs("<td class=\"n\">-</td>", f);
			else
				fprintf(f, "<td class=\"n\">%.1f%%</td>", 100 *
				    report_share(&g->r, (enum state)st));
		}
		fputs("</tr>\n", f);
		if (odd > 0) {
			char d[64];

			util_format_elapsed(odd, d, sizeof(d));
			fprintf(f, "<tr class=\"busy-card-note\"><td colspan=\"5\">"
			    "* a process on this card was idle-held %s while "
			    "the card was busy: see below</td></tr>\n", d);
			notes++;
		}
	}
	fputs("</table></div>\n", f);
	if (notes > 0)
		fputs("<p id=\"busy-card-note\" class=\"note\">* The card is "
		    "classified by its own utilization and each process by its "
		    "own: a process that holds memory and computes nothing is "
		    "idle-held even on a card other processes keep busy. Such a "
		    "session is listed in \xc2\xa7" "6 while the card shows "
		    "active here; both views are right.</p>\n", f);
	fputs("</section>\n", f);
}

/* A process's own SM utilization: "3.2%", or "-" when unknown. */
static void
sm_cell(FILE *f, double pct)
{
	if (pct < 0)
		fputs("<td class=\"n\">-</td>", f);
	else
		fprintf(f, "<td class=\"n\">%.1f%%</td>", pct);
}

static void
write_identities(FILE *f, const struct report *rep)
{
	size_t shown = rep->nids;	/* --top's */

	fputs("<section id=\"identities\">\n<h2>\xc2\xa7" "4 Top identities "
	    "(by idle-held GPU-hours)</h2>\n", f);
	if (rep->nids_all == 0) {
		fprintf(f, "<p>%s</p>\n</section>\n",
		    rollup_gpu_known_n(&rep->total) == 0 ?
		    "(no samples in window)" :
		    "(no process held a GPU in window)");
		return;
	}
	fputs("<div class=\"table\"><table>\n<tr><th>", f);
	fputs(report_key_name(rep->by), f);
	fputs("</th>", f);
	/* The host beside the key, unless the key is the host. */
	if (rep->nhosts > 1 && rep->by != REPORT_KEY_HOST)
		fputs("<th>host</th>", f);
	fputs("<th class=\"n\">GPU-hours</th><th class=\"n\">idle-held</th>"
	    "<th class=\"n\">share</th><th class=\"n\">idle GiB\xc2\xb7h</th>"
	    "<th class=\"n\">SM %</th>", f);
	if (rep->price.set)
		fputs("<th class=\"n\">idle-held cost</th>", f);
	fputs("</tr>\n", f);
	for (size_t i = 0; i < shown; i++) {
		const struct report_identity *id = &rep->ids[i];
		char money[48], where[256];

		fputs("<tr><td>", f);
		esc(f, id->name);
		muted_place(f, report_identity_place(rep, id, where,
		    sizeof(where)));
		fputs("</td>", f);
		if (rep->nhosts > 1 && rep->by != REPORT_KEY_HOST) {
			fputs("<td>", f);
			esc(f, rep->hosts[id->host].hostname);
			fputs("</td>", f);
		}
		fprintf(f, "<td class=\"n\">%.2f</td><td class=\"n\">%.2f</td>"
		    "<td class=\"n\">%.1f%%</td><td class=\"n\">%.2f</td>",
		    (double)id->ms / MS_PER_HOUR,
		    (double)id->idle_ms / MS_PER_HOUR,
		    id->ms ? 100.0 * (double)id->idle_ms / (double)id->ms : 0,
		    (double)id->idle_mib_ms / 1024 / MS_PER_HOUR);
		sm_cell(f, report_identity_util(id));
		if (rep->price.set)
			fprintf(f, "<td class=\"n\">%s</td>", report_money(rep,
			    price_cents(&rep->price, id->idle_ms), money,
			    sizeof(money)));
		fputs("</tr>\n", f);
	}
	fputs("</table></div>\n", f);
	if (report_ids_omitted(rep) > 0)
		fprintf(f, "<p class=\"muted\" id=\"identities-more\">"
		    "\xe2\x80\xa6 and %zu more (--top)</p>\n",
		    report_ids_omitted(rep));
	fputs("</section>\n", f);
}

/*
 * A share's step on the heatmaps' scales, of the share as the cell's
 * title prints it (so a cell titled 30.0 % is in the 30-40 % step even
 * where the share is 0.29996): 0 for under 10.0 %, 9 for 90.0 % and over.
 */
static int
heat_step(double share)
{
	char pct[32];
	int k;

	snprintf(pct, sizeof(pct), "%.1f", 100 * share);
	k = (int)(strtod(pct, NULL) / 10);
	return k < 0 ? 0 : k >= HEAT_STEPS ? HEAT_STEPS - 1 : k;
}

/*
 * One heatmap: the share of state s by weekday and hour, each cell in
 * its step's colour (class "ha3": active, step 3; "hi3": idle-held), its
 * share in data-share and its <title>; then the legend of the steps.
 */
static void
heatmap(FILE *f, const struct report *rep, enum state s, const char *id)
{
	const int cw = 30, ch = 22, left = 40, top = 18;
	const char *cls = s == STATE_ACTIVE ? "ha" : "hi";

	fprintf(f, "<h3>%s share</h3>\n<div class=\"chart\"><svg id=\"%s\" "
	    "role=\"img\" aria-label=\"%s share by weekday and hour (%s)\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
	    s == STATE_ACTIVE ? "Active" : "Idle-held", id, state_words[s],
	    tz_name(), left + 24 * cw, top + 7 * ch, left + 24 * cw,
	    top + 7 * ch);
	for (int h = 0; h < 24; h++)
		fprintf(f, "<text x=\"%d\" y=\"12\" text-anchor=\"middle\">"
		    "%02d</text>\n", left + h * cw + (cw - 2) / 2, h);
	for (int d = 0; d < 7; d++) {
		fprintf(f, "<text x=\"0\" y=\"%d\">%s</text>\n",
		    top + d * ch + 15, weekdays[d]);
		for (int h = 0; h < 24; h++) {
			const struct rollup_gpu *c = &rep->heat[d][h];
			int x = left + h * cw, y = top + d * ch;
			double share;

			if (rollup_gpu_known_ms(c) == 0) {
				fprintf(f, "<rect class=\"none\" x=\"%d\" "
				    "y=\"%d\" width=\"%d\" height=\"%d\" "
				    "data-day=\"%d\" data-hour=\"%d\" "
				    "data-share=\"\"><title>%s %02d:00 %s: "
				    "no samples</title></rect>\n", x, y,
				    cw - 2, ch - 2, d, h, weekdays[d], h,
				    tz_name());
				continue;
			}
			share = report_share(c, s);
			fprintf(f, "<rect class=\"%s%d\" x=\"%d\" y=\"%d\" "
			    "width=\"%d\" height=\"%d\" data-day=\"%d\" "
			    "data-hour=\"%d\" data-share=\"%.6f\" "
			    "data-step=\"%d\"><title>%s %02d:00 %s: %s "
			    "%.1f%%</title></rect>\n", cls, heat_step(share),
			    x, y, cw - 2, ch - 2, d, h, share, heat_step(share),
			    weekdays[d], h, tz_name(), state_words[s],
			    100 * share);
		}
	}
	fprintf(f, "</svg></div>\n<ol class=\"scale\" id=\"legend-%s\" "
	    "aria-label=\"colour scale\">", id);
	for (int k = 0; k < HEAT_STEPS; k++)
		fprintf(f, "<li data-step=\"%d\"><span class=\"sw %s%d\">"
		    "</span>%d\xe2\x80\x93%d%%</li>", k, cls, k, 10 * k,
		    10 * (k + 1));
	fputs("<li><span class=\"sw none-sw\"></span>no samples</li></ol>\n",
	    f);
}

static void
write_heatmap(FILE *f, const struct report *rep)
{
	fprintf(f, "<section id=\"heatmap\">\n<h2>\xc2\xa7" "5 Time-of-day "
	    "heatmaps (%s)</h2>\n", tz_name());
	if (rollup_gpu_known_n(&rep->total) == 0) {
		fputs("<p>(no samples in window)</p>\n</section>\n", f);
		return;
	}
	fputs("<p class=\"muted\">Each cell: the share of the GPU time "
	    "observed in that weekday's hour, in steps of 10 %.</p>\n", f);
	heatmap(f, rep, STATE_ACTIVE, "heatmap-active");
	heatmap(f, rep, STATE_IDLE_HELD, "heatmap-idle-held");
	fputs("</section>\n", f);
}

/* One row of the timeline: a column of the three shares per bucket. */
static void
timeline_row(FILE *f, const struct report *rep, const struct rollup_gpu *t,
    double y)
{
	double w = (double)BAR_W / (double)rep->ntimeline;

	for (size_t i = 0; i < rep->ntimeline; i++) {
		const struct rollup_gpu *r = &t[i];
		double x = LABEL_W + (double)i * w, at = y + BAR_H;
		char when[32];

		tz_format_datetime(rep->timeline_start_ms + (int64_t)i *
		    rep->timeline_step_ms, when, sizeof(when));
		if (rollup_gpu_known_ms(r) == 0) {
			fprintf(f, "<rect class=\"none\" x=\"%.2f\" y=\"%.2f\" "
			    "width=\"%.2f\" height=\"%d\" data-bucket=\"%zu\">"
			    "<title>%s: not observed</title></rect>\n", x, y,
			    w, BAR_H, i, when);
			continue;
		}
		/* From the bottom: active, idle-held, truly idle. */
		for (int s = 0; s < 3; s++) {
			double share = report_share(r, (enum state)s);
			double h = share * BAR_H;

			at -= h;
			fprintf(f, "<rect class=\"%s\" x=\"%.2f\" y=\"%.2f\" "
			    "width=\"%.2f\" height=\"%.2f\" data-bucket=\"%zu\""
			    " data-state=\"%s\" data-share=\"%.6f\"><title>%s "
			    "%s: %s %.1f%%</title></rect>\n", state_keys[s], x,
			    at, w, h, i,
			    state_keys[s], share, when, tz_name(), state_words[s],
			    100 * share);
		}
	}
}

/*
 * Time labels along the timeline, each over a short tick mark: the first
 * bucket's start with its date, then every k-th bucket edge, k buckets
 * being the first of axis_steps that is a multiple of the bucket and
 * keeps the labels TICK_GAP apart, placed on round local times where the
 * zone allows ("10:00", not "10:30", in a whole-hour zone); "10:30" where
 * the window is within a day, else "11-25 10:30". In the report's zone,
 * like every time of the page.
 */
static const int64_t axis_steps[] = {
	MS_PER_MINUTE, 2 * MS_PER_MINUTE, 5 * MS_PER_MINUTE,
	10 * MS_PER_MINUTE, 15 * MS_PER_MINUTE, 30 * MS_PER_MINUTE,
	MS_PER_HOUR, 2 * MS_PER_HOUR, 3 * MS_PER_HOUR, 6 * MS_PER_HOUR,
	12 * MS_PER_HOUR, MS_PER_DAY, 2 * MS_PER_DAY, 7 * MS_PER_DAY,
	14 * MS_PER_DAY, 28 * MS_PER_DAY,
};

static void
time_axis(FILE *f, const struct report *rep, int y)
{
	int64_t step = rep->timeline_step_ms, first = rep->timeline_start_ms;
	double w = (double)BAR_W / (double)rep->ntimeline;
	int days = (int64_t)rep->ntimeline * step > MS_PER_DAY;
	int64_t every = 0;
	size_t k = 0, phase = 0;

	for (size_t i = 0; i < sizeof(axis_steps) / sizeof(axis_steps[0]);
	    i++)
		if (axis_steps[i] % step == 0 &&
		    (double)(axis_steps[i] / step) * w >= TICK_GAP) {
			every = axis_steps[i];
			k = (size_t)(every / step);
			break;
		}
	/* The first edge on a round local time, if one is. */
	for (size_t i = 0; k > 0 && i < k; i++) {
		int64_t t = first + (int64_t)i * step;
		struct tz_time lt;

		tz_local(t, &lt);
		if ((t + (int64_t)lt.offset_s * MS_PER_SECOND) % every == 0) {
			phase = i;
			break;
		}
	}
	for (size_t i = 0; i <= rep->ntimeline; i++) {
		int64_t t = first + (int64_t)i * step;
		double x = LABEL_W + (double)i * w;
		char when[40];

		if (i > 0 && (k == 0 || i < phase || (i - phase) % k != 0 ||
		    x - LABEL_W < 1.4 * TICK_GAP || x + TICK_GAP / 2 > CHART_W))
			continue;
		tz_format_datetime(t, when, sizeof(when));
		when[16] = '\0';	/* "2026-11-25 10:30" */
		fprintf(f, "<line x1=\"%.2f\" x2=\"%.2f\" y1=\"%d\" "
		    "y2=\"%d\" stroke=\"#999\"/>\n<text class=\"tick\" "
		    "x=\"%.2f\" y=\"%d\" text-anchor=\"%s\">%s</text>\n", x, x,
		    y - 16, y - 11, x, y, i == 0 ? "start" : "middle",
		    i == 0 ? when : days ? when + 5 : when + 11);
	}
}

static void
write_timeline(FILE *f, const struct report *rep)
{
	int height = (int)(rep->ngpus + 1) * ROW_H + 20;
	char start[32], step[64];

	fputs("<section id=\"timeline\">\n<h2>Timeline of GPU states</h2>\n",
	    f);
	if (rollup_gpu_known_n(&rep->total) == 0 || rep->ntimeline == 0) {
		fputs("<p>(no samples in window)</p>\n</section>\n", f);
		return;
	}
	tz_format_datetime(rep->timeline_start_ms, start, sizeof(start));
	util_format_elapsed(rep->timeline_step_ms, step, sizeof(step));
	fprintf(f, "<p class=\"muted\">%zu buckets of %s from %s %s; each "
	    "column splits the bucket's observed time, grey where nothing "
	    "was observed.</p>\n", rep->ntimeline, step, start, tz_name());
	fprintf(f, "<div class=\"chart\"><svg id=\"timeline-svg\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"GPU "
	    "states over the window\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\" data-start=\"%lld\" "
	    "data-bucket-ms=\"%lld\" data-buckets=\"%zu\">\n",
	    CHART_W, height, CHART_W, height,
	    (long long)rep->timeline_start_ms,
	    (long long)rep->timeline_step_ms, rep->ntimeline);
	fprintf(f, "<g class=\"timeline-row\" data-row=\"all\">\n"
	    "<text x=\"0\" y=\"16\">all GPUs</text>\n");
	timeline_row(f, rep, rep->timeline, 2);
	fputs("</g>\n", f);
	for (size_t g = 0; g < rep->ngpus; g++) {
		double y = (double)(g + 1) * ROW_H;

		fprintf(f, "<g class=\"timeline-row\" data-row=\"%zu\">\n"
		    "<text x=\"0\" y=\"%.0f\">", g, y + 16);
		gpu_label(f, rep, &rep->gpus[g]);
		fputs("</text>\n", f);
		timeline_row(f, rep, rep->gpus[g].timeline, y + 2);
		fputs("</g>\n", f);
	}
	time_axis(f, rep, height - 4);
	fputs("</svg></div>\n</section>\n", f);
}

/*
 * A session's command: its name, then the arguments of its command line
 * (what follows argv[0], which the name already says), so two notebooks
 * of the same program tell apart; cut to the column by the style, the
 * whole command line in its title.
 */
static void
command_cell(FILE *f, const struct report_who *who)
{
	const char *args = strchr(who->cmdline, ' ');

	fputs("<code class=\"cmd\" title=\"", f);
	esc(f, who->cmdline[0] ? who->cmdline : who->comm);
	fputs("\">", f);
	if (who->comm[0] == '\0') {
		esc(f, who->cmdline[0] ? who->cmdline : "?");
	} else {
		esc(f, who->comm);
		if (args != NULL)
			esc(f, args);
	}
	fputs("</code>", f);
}

static void
write_sessions(FILE *f, const struct report *rep)
{
	size_t shown = 0, more = report_sessions_omitted(rep, 1);

	fputs("<section id=\"sessions\">\n<h2>\xc2\xa7" "6 Idle-held sessions "
	    "(longest first)</h2>\n", f);
	if (rollup_gpu_known_n(&rep->total) == 0) {
		fputs("<p>(no samples in window)</p>\n</section>\n", f);
		return;
	}
	for (size_t i = 0; i < rep->nsessions; i++) {
		const struct report_session *s = &rep->sessions[i];
		char idle[64], first[32], last[32];

		if (s->r.idle_ms == 0)
			break;	/* ranked: the rest held nothing idle */
		if (shown++ == 0)
			fprintf(f, "<div class=\"table\"><table "
			    "id=\"sessions-table\">\n<tr><th>"
			    "user</th><th class=\"n\">pid</th><th>command</th>"
			    "<th>gpu</th><th class=\"n\">peak MiB</th><th "
			    "class=\"n\">idle-held</th><th class=\"n\">SM %%"
			    "</th><th>first seen (%s)</th><th>last seen (%s)"
			    "</th><th>alive</th></tr>\n", tz_name(),
			    tz_name());
		util_format_elapsed(s->r.idle_ms, idle, sizeof(idle));
		tz_format_datetime(s->r.first_ms, first, sizeof(first));
		tz_format_datetime(s->r.last_ms, last, sizeof(last));
		fprintf(f, "<tr data-idle-held-ms=\"%lld\"><td>",
		    (long long)s->r.idle_ms);
		esc(f, s->who.user[0] ? s->who.user : "unknown");
		place(f, s->who.container, s->who.pod, s->who.unit,
		    s->who.slurm_job);
		fprintf(f, "</td><td class=\"n\">%u</td><td>", s->pid);
		command_cell(f, &s->who);
		fputs("</td><td>", f);
		gpu_label(f, rep, &rep->gpus[s->gpu]);
		if (s->r.idle_ms > rep->gpus[s->gpu].r.ms[STATE_IDLE_HELD])
			fputs(" <span class=\"busy-card\" title=\"idle-held while "
			    "the card was busy: see the note under "
			    "\xc2\xa7" "3\">*</span>", f);
		if (s->r.peak_mib == MIB_UNKNOWN)
			fputs("</td><td class=\"n\">unknown", f);
		else
			fprintf(f, "</td><td class=\"n\">%lld",
			    (long long)s->r.peak_mib);
		fprintf(f, "</td><td class=\"n\">%s</td>", idle);
		sm_cell(f, report_session_util(s));
		fprintf(f, "<td>%s</td><td>%s</td><td>%s</td></tr>\n", first,
		    last, s->alive ? "yes" : "no");
	}
	if (shown == 0)
		fputs("<p>(no process held memory idle in window)</p>\n", f);
	else
		fputs("</table></div>\n", f);
	if (more > 0)
		fprintf(f, "<p class=\"muted\" id=\"sessions-more\">"
		    "\xe2\x80\xa6 and %zu more (--top)</p>\n", more);
	fputs("</section>\n", f);
}

int
report_html_write(FILE *f, const struct report *rep)
{
	write_head(f, rep);
	write_header(f, rep);
	write_hosts(f, rep);
	write_headline(f, rep);
	write_waste(f, rep);
	write_gpus(f, rep);
	write_identities(f, rep);
	write_heatmap(f, rep);
	write_timeline(f, rep);
	write_sessions(f, rep);
	fprintf(f, "<footer>gua %s \xc2\xb7 shares are of observed time; "
	    "times in %s</footer>\n</body>\n</html>\n", GUA_VERSION,
	    tz_name());
	fflush(f);
	return ferror(f) ? -1 : 0;
}
