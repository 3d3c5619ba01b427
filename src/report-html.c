/*
 * The HTML writer. All text from the database (host names, GPU names, user
 * names, commands) goes through escape_html_write, in text and attributes
 * alike; everything else written here is numbers and fixed markup.
 */
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "report-html.h"
#include "tz.h"
#include "util.h"
#include "version.h"

#define CHART_W		720	/* width of the bars, pixels */
#define LABEL_W		160	/* room for GPU labels left of them */
#define BAR_H		22
#define ROW_H		30

static const char *const state_keys[3] = { "active", "idle_held",
	"truly_idle" };
static const char *const state_words[3] = { "active", "idle-held",
	"truly idle" };
static const char *const weekdays[7] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	"Fri", "Sat" };

static const char style[] =
    "body{font:14px/1.45 system-ui,sans-serif;color:#222;margin:2em auto;"
    "max-width:960px;padding:0 1em}"
    "h1{font-size:1.5em;margin:0}h2{font-size:1.15em;margin:1.6em 0 .5em;"
    "border-bottom:1px solid #ddd}"
    ".sub{color:#555;margin:.2em 0 0}"
    "svg{display:block;max-width:100%;height:auto}"
    "svg text{font:12px system-ui,sans-serif;fill:#333}"
    ".active{fill:#2e7d32}.idle_held{fill:#ef6c00}.truly_idle{fill:#b0bec5}"
    ".none{fill:#f3f3f3}"
    ".legend{list-style:none;padding:0;display:flex;gap:1.5em;margin:.4em 0}"
    ".sw{display:inline-block;width:.9em;height:.9em;margin-right:.35em;"
    "vertical-align:-.1em}"
    ".sw.active{background:#2e7d32}.sw.idle_held{background:#ef6c00}"
    ".sw.truly_idle{background:#b0bec5}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{text-align:left;padding:.25em .6em;border-bottom:1px solid #eee;"
    "vertical-align:top}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "code{font-size:12px;word-break:break-all}"
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

/* " (container 3f2a1b4c5d6e)" after a user, muted; nothing if unknown. */
static void
place(FILE *f, const char *container, const char *pod, const char *unit,
    const char *slurm_job)
{
	char buf[256];

	report_place(container, pod, unit, slurm_job, buf, sizeof(buf));
	if (buf[0] == '\0')
		return;
	fputs(" <span class=\"muted\">(", f);
	esc(f, buf);
	fputs(")</span>", f);
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
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", style);
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
	fputs("</p>\n</header>\n", f);
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
	fprintf(f, "<svg id=\"headline-bar\" role=\"img\" aria-label=\""
	    "active %.1f%%, idle-held %.1f%%, truly idle %.1f%%\" "
	    "width=\"%d\" height=\"40\" viewBox=\"0 0 %d 40\">\n",
	    100 * report_share(t, STATE_ACTIVE),
	    100 * report_share(t, STATE_IDLE_HELD),
	    100 * report_share(t, STATE_TRULY_IDLE), CHART_W, CHART_W);
	stacked_bar(f, t, 0, 0, CHART_W, 40, "all GPUs");
	fputs("</svg>\n", f);
	legend(f, t);
	fprintf(f, "<p class=\"muted\">Idle-held: memory held while the GPU "
	    "computes nothing \xe2\x80\x94 the number conventional tools miss. "
	    "<span id=\"samples\" data-samples=\"%lld\">%lld samples</span>"
	    "</p>\n</section>\n", (long long)rollup_gpu_known_n(t),
	    (long long)rollup_gpu_known_n(t));
}

static void
write_waste(FILE *f, const struct report *rep)
{
	fputs("<section id=\"waste\">\n<h2>\xc2\xa7" "2 Waste</h2>\n", f);
	if (rollup_gpu_known_n(&rep->total) == 0) {
		fputs("<p>(no samples in window)</p>\n</section>\n", f);
		return;
	}
	fprintf(f, "<p class=\"big\"><b id=\"idle-gpu-hours\" "
	    "data-value=\"%.6f\">~%.2f</b> GPU-hours idle, <b "
	    "id=\"gpus-unused\" data-value=\"%.6f\">~%.2f</b> GPUs "
	    "equivalently unused</p>\n</section>\n",
	    report_idle_gpu_hours(rep), report_idle_gpu_hours(rep),
	    report_gpus_unused(rep), report_gpus_unused(rep));
}

static void
write_hosts(FILE *f, const struct report *rep)
{
	if (rep->nhosts <= 1)
		return;
	fputs("<section id=\"hosts\">\n<h2>Hosts</h2>\n<table>\n<tr><th>host"
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
		fprintf(f, "</td><td class=\"n\">%zu</td>", h->ngpus);
		for (int s = 0; s < 3; s++)
			fprintf(f, "<td class=\"n\">%.1f%%</td>",
			    100 * report_share(&h->total, (enum state)s));
		fprintf(f, "<td class=\"n\">%lld</td><td class=\"n\">%.1f%%"
		    "</td></tr>\n", (long long)rollup_gpu_known_n(&h->total),
		    100 * report_host_coverage(h));
	}
	fputs("</table>\n</section>\n", f);
}

static void
write_gpus(FILE *f, const struct report *rep)
{
	int height = (int)rep->ngpus * ROW_H;

	fputs("<section id=\"gpus\">\n<h2>\xc2\xa7" "3 Per-GPU</h2>\n", f);
	if (rep->ngpus == 0) {
		fputs("<p>(no samples in window)</p>\n</section>\n", f);
		return;
	}
	fprintf(f, "<svg id=\"gpu-bars\" role=\"img\" aria-label=\"state "
	    "shares per GPU\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
	    "%d\">\n", LABEL_W + CHART_W, height, LABEL_W + CHART_W, height);
	for (size_t i = 0; i < rep->ngpus; i++) {
		const struct report_gpu *g = &rep->gpus[i];
		double y = (double)i * ROW_H;

		fprintf(f, "<g class=\"gpu\" data-index=\"%d\" data-uuid=\"",
		    g->info.index);
		esc(f, g->info.uuid);
		fputs("\" data-host=\"", f);
		esc(f, rep->hosts[g->host].hostname);
		fprintf(f, "\">\n<text x=\"0\" y=\"%.0f\">", y + 16);
		gpu_label(f, rep, g);
		fputs("<title>", f);
		esc(f, g->info.name);
		fputs(" ", f);
		esc(f, g->info.uuid);
		fputs("</title></text>\n", f);
		stacked_bar(f, &g->r, LABEL_W, y + 2, CHART_W, BAR_H,
		    "this GPU");
		fputs("</g>\n", f);
	}
	fputs("</svg>\n</section>\n", f);
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
	fputs("<table>\n<tr><th>identity</th>", f);
	if (rep->nhosts > 1)
		fputs("<th>host</th>", f);
	fputs("<th class=\"n\">GPU-hours</th><th class=\"n\">idle-held</th>"
	    "<th class=\"n\">share</th><th class=\"n\">idle GiB\xc2\xb7h</th>"
	    "<th class=\"n\">SM %</th></tr>\n", f);
	for (size_t i = 0; i < shown; i++) {
		const struct report_identity *id = &rep->ids[i];

		fputs("<tr><td>", f);
		esc(f, id->name);
		place(f, id->container, id->pod, id->unit, id->slurm_job);
		fputs("</td>", f);
		if (rep->nhosts > 1) {
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
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
	if (report_ids_omitted(rep) > 0)
		fprintf(f, "<p class=\"muted\" id=\"identities-more\">"
		    "\xe2\x80\xa6 and %zu more (--top)</p>\n",
		    report_ids_omitted(rep));
	fputs("</section>\n", f);
}

static void
write_heatmap(FILE *f, const struct report *rep)
{
	const int cw = 28, ch = 22, left = 40, top = 18;

	fprintf(f, "<section id=\"heatmap\">\n<h2>\xc2\xa7" "5 Idle-held share "
	    "by weekday and hour (%s)</h2>\n", tz_name());
	if (rollup_gpu_known_n(&rep->total) == 0) {
		fputs("<p>(no samples in window)</p>\n</section>\n", f);
		return;
	}
	fprintf(f, "<svg id=\"heatmap-idle-held\" role=\"img\" aria-label=\""
	    "idle-held share by weekday and hour (%s)\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\">\n", tz_name(), left + 24 * cw,
	    top + 7 * ch, left + 24 * cw, top + 7 * ch);
	for (int h = 0; h < 24; h += 3)
		fprintf(f, "<text x=\"%d\" y=\"12\">%02d</text>\n",
		    left + h * cw + 4, h);
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
			share = report_share(c, STATE_IDLE_HELD);
			fprintf(f, "<rect class=\"idle_held\" x=\"%d\" y=\"%d\" "
			    "width=\"%d\" height=\"%d\" fill-opacity=\"%.3f\" "
			    "data-day=\"%d\" data-hour=\"%d\" "
			    "data-share=\"%.6f\"><title>%s %02d:00 %s: "
			    "idle-held %.1f%%</title></rect>\n", x, y, cw - 2,
			    ch - 2, 0.08 + 0.92 * share, d, h, share,
			    weekdays[d], h, tz_name(), 100 * share);
		}
	}
	fputs("</svg>\n</section>\n", f);
}

/* One row of the timeline: a column of the three shares per bucket. */
static void
timeline_row(FILE *f, const struct report *rep, const struct rollup_gpu *t,
    double y)
{
	double w = (double)CHART_W / (double)rep->ntimeline;

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

static void
write_timeline(FILE *f, const struct report *rep)
{
	int height = (int)(rep->ngpus + 1) * ROW_H + 20;
	char start[32], end[32], step[64];

	fputs("<section id=\"timeline\">\n<h2>Timeline of GPU states</h2>\n",
	    f);
	if (rollup_gpu_known_n(&rep->total) == 0 || rep->ntimeline == 0) {
		fputs("<p>(no samples in window)</p>\n</section>\n", f);
		return;
	}
	tz_format_datetime(rep->timeline_start_ms, start, sizeof(start));
	tz_format_datetime(rep->timeline_start_ms + (int64_t)rep->ntimeline *
	    rep->timeline_step_ms, end, sizeof(end));
	util_format_elapsed(rep->timeline_step_ms, step, sizeof(step));
	fprintf(f, "<p class=\"muted\">%zu buckets of %s from %s %s; each "
	    "column splits the bucket's observed time, grey where nothing "
	    "was observed.</p>\n", rep->ntimeline, step, start, tz_name());
	fprintf(f, "<svg id=\"timeline-svg\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"GPU "
	    "states over the window\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\" data-start=\"%lld\" "
	    "data-bucket-ms=\"%lld\" data-buckets=\"%zu\">\n",
	    LABEL_W + CHART_W, height, LABEL_W + CHART_W, height,
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
	fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text>\n", LABEL_W, height - 4,
	    start);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n",
	    LABEL_W + CHART_W, height - 4, end);
	fputs("</svg>\n</section>\n", f);
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
			fprintf(f, "<table id=\"sessions-table\">\n<tr><th>"
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
		fprintf(f, "</td><td class=\"n\">%u</td><td><code title=\"",
		    s->pid);
		esc(f, s->who.cmdline);
		fputs("\">", f);
		esc(f, s->who.comm[0] ? s->who.comm : "?");
		fputs("</code></td><td>", f);
		gpu_label(f, rep, &rep->gpus[s->gpu]);
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
		fputs("</table>\n", f);
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
