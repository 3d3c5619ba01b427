/*
 * The CSV writer. Cells are separated by commas and rows end with CRLF, as
 * RFC 4180 has it; every text cell goes through escape_csv_write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "report-csv.h"
#include "tz.h"
#include "util.h"

static const char *const table_names[] = {
	[CSV_GPUS] = "gpus",
	[CSV_IDENTITIES] = "identities",
	[CSV_SESSIONS] = "sessions",
	[CSV_TICKS] = "ticks",
	[CSV_PROCESSES] = "processes",
};

/* State names as in the JSON and the Prometheus textfile. */
static const char *const state_keys[STATE_COUNT] = {
	"active", "idle_held", "truly_idle", "unknown"
};

int
report_csv_table(const char *name, enum csv_table *t)
{
	for (size_t i = 0; i < ARRAY_LEN(table_names); i++) {
		if (strcmp(name, table_names[i]) == 0) {
			*t = (enum csv_table)i;
			return 0;
		}
	}
	return -1;
}

/* A cell separator before every cell but a row's first. */
static void
sep(FILE *f, int *first)
{
	if (!*first)
		fputc(',', f);
	*first = 0;
}

static void
cell_text(FILE *f, int *first, const char *s)
{
	sep(f, first);
	escape_csv_write(f, s);
}

static void
cell_int(FILE *f, int *first, int64_t v)
{
	sep(f, first);
	fprintf(f, "%lld", (long long)v);
}

/* An unknown value: an empty cell. */
static void
cell_empty(FILE *f, int *first)
{
	sep(f, first);
}

static void
cell_double(FILE *f, int *first, double v, int decimals)
{
	sep(f, first);
	fprintf(f, "%.*f", decimals, v == 0 ? 0.0 : v);
}

/* A percentage that may be unknown (< 0): an empty cell then. */
static void
cell_percent(FILE *f, int *first, double pct)
{
	if (pct < 0)
		cell_empty(f, first);
	else
		cell_double(f, first, pct, 1);
}

/* Milliseconds as seconds, exactly. */
static void
cell_seconds(FILE *f, int *first, int64_t ms)
{
	sep(f, first);
	if (ms % 1000 == 0)
		fprintf(f, "%lld", (long long)(ms / 1000));
	else
		fprintf(f, "%lld.%03lld", (long long)(ms / 1000),
		    (long long)(ms % 1000 < 0 ? -(ms % 1000) : ms % 1000));
}

static void
cell_time(FILE *f, int *first, int64_t ms)
{
	char buf[40];

	tz_format_rfc3339_ms(ms, buf, sizeof(buf));
	sep(f, first);
	fputs(buf, f);
}

static void
end_row(FILE *f)
{
	fputs("\r\n", f);
}

static void
header(FILE *f, const char *const *names)
{
	int first = 1;

	for (; *names != NULL; names++)
		cell_text(f, &first, *names);
	end_row(f);
}

/* kWh per state and the share not recorded; empty (unknown, not 0)
   when none of the GPU's time has its energy recorded. */
static void
energy_cells(FILE *f, int *first, const struct rollup_gpu *r)
{
	double un = report_energy_unrecorded(r);

	for (int s = 0; s < STATE_COUNT; s++) {
		if (un >= 1)
			cell_empty(f, first);
		else
			cell_double(f, first, report_kwh(r->energy_j[s]), 6);
	}
	cell_double(f, first, un, 6);
}

static void
write_gpus(FILE *f, const struct report *rep)
{
	static const char *const names[] = { "host", "gpu_index", "gpu_uuid",
		"gpu_name", "memory_total_mib", "samples", "unknown_samples",
		"active_ratio", "idle_held_ratio", "truly_idle_ratio",
		"active_gpu_hours", "idle_held_gpu_hours",
		"truly_idle_gpu_hours", "unknown_gpu_hours",
		"mean_utilization_percent", "gpu_label", "active_kwh",
		"idle_held_kwh", "truly_idle_kwh", "unknown_state_kwh",
		"energy_unrecorded_ratio", NULL };

	header(f, names);
	for (size_t i = 0; i < rep->ngpus; i++) {
		const struct report_gpu *g = &rep->gpus[i];
		double util = report_mean_util(&g->r);
		char label[96];
		int first = 1;

		cell_text(f, &first, rep->hosts[g->host].hostname);
		cell_int(f, &first, g->info.index);
		cell_text(f, &first, g->info.uuid);
		cell_text(f, &first, g->info.name);
		if (g->info.mem_total_mib == MIB_UNKNOWN)
			cell_empty(f, &first);
		else
			cell_int(f, &first, g->info.mem_total_mib);
		cell_int(f, &first, rollup_gpu_known_n(&g->r));
		cell_int(f, &first, g->r.n[STATE_UNKNOWN]);
		for (int s = 0; s < 3; s++) {
			if (rollup_gpu_known_ms(&g->r) == 0)
				cell_empty(f, &first);
			else
				cell_double(f, &first,
				    report_share(&g->r, (enum state)s), 6);
		}
		for (int s = 0; s < STATE_COUNT; s++)
			cell_double(f, &first, (double)g->r.ms[s] /
			    MS_PER_HOUR, 6);
		if (util < 0)
			cell_empty(f, &first);
		else
			cell_double(f, &first, util, 3);
		cell_text(f, &first, report_gpu_label(rep, i, label,
		    sizeof(label)));
		energy_cells(f, &first, &g->r);
		end_row(f);
	}
}

static void
write_identities(FILE *f, const struct report *rep)
{
	/* The second column is named by the key (--by); by host there is
	   none: the host column is the key, and a header names a column
	   once. */
	const char *names[] = { "host", "user", "sessions",
		"gpu_hours", "idle_held_gpu_hours", "idle_held_ratio",
		"idle_held_gib_hours", "container", "pod", "unit", "slurm_job",
		"mean_sm_utilization_percent", "idle_held_cost", NULL };
	int key = rep->by != REPORT_KEY_HOST;

	names[1] = report_key_name(rep->by);
	if (!key)
		memmove(&names[1], &names[2], sizeof(names) - 2 *
		    sizeof(names[0]));
	header(f, names);
	for (size_t i = 0; i < rep->nids; i++) {
		const struct report_identity *id = &rep->ids[i];
		int first = 1;

		cell_text(f, &first, rep->hosts[id->host].hostname);
		/* Empty for the processes without the key ("unknown" user). */
		if (key && id->none)
			cell_empty(f, &first);
		else if (key)
			cell_text(f, &first, id->name);
		cell_int(f, &first, id->sessions);
		cell_double(f, &first, (double)id->ms / MS_PER_HOUR, 6);
		cell_double(f, &first, (double)id->idle_ms / MS_PER_HOUR, 6);
		if (id->ms > 0)
			cell_double(f, &first, (double)id->idle_ms /
			    (double)id->ms, 6);
		else
			cell_empty(f, &first);
		cell_double(f, &first, (double)id->idle_mib_ms / 1024 /
		    MS_PER_HOUR, 6);
		cell_text(f, &first, id->container);
		cell_text(f, &first, id->pod);
		cell_text(f, &first, id->unit);
		cell_text(f, &first, id->slurm_job);
		cell_percent(f, &first, report_identity_util(id));
		/* Empty without --cost-per-gpu-hour. */
		if (rep->price.set)
			cell_double(f, &first, (double)price_cents(&rep->price,
			    id->idle_ms) / 100, 2);
		else
			cell_empty(f, &first);
		end_row(f);
	}
}

static void
write_sessions(FILE *f, const struct report *rep)
{
	static const char *const names[] = { "host", "gpu_index", "gpu_uuid",
		"pid", "process_start", "user", "command", "command_line",
		"container", "pod", "unit", "slurm_job", "peak_memory_mib",
		"samples", "present_seconds", "idle_held_seconds",
		"idle_held_gib_hours", "first_seen", "last_seen", "alive",
		"mean_sm_utilization_percent", "gpu_label", NULL };

	header(f, names);
	for (size_t i = 0; i < rep->nsessions; i++) {
		const struct report_session *s = &rep->sessions[i];
		const struct report_gpu *g = &rep->gpus[s->gpu];
		char label[96];
		int first = 1;

		cell_text(f, &first, rep->hosts[s->host].hostname);
		cell_int(f, &first, g->info.index);
		cell_text(f, &first, g->info.uuid);
		cell_int(f, &first, s->pid);
		if (s->start_ms > 0)
			cell_time(f, &first, s->start_ms);
		else
			cell_empty(f, &first);
		cell_text(f, &first, s->who.user);
		cell_text(f, &first, s->who.comm);
		cell_text(f, &first, s->who.cmdline);
		cell_text(f, &first, s->who.container);
		cell_text(f, &first, s->who.pod);
		cell_text(f, &first, s->who.unit);
		cell_text(f, &first, s->who.slurm_job);
		if (s->r.peak_mib == MIB_UNKNOWN)
			cell_empty(f, &first);
		else
			cell_int(f, &first, s->r.peak_mib);
		cell_int(f, &first, s->r.n);
		cell_seconds(f, &first, s->r.ms);
		cell_seconds(f, &first, s->r.idle_ms);
		cell_double(f, &first, (double)s->r.idle_mib_ms / 1024 /
		    MS_PER_HOUR, 6);
		cell_time(f, &first, s->r.first_ms);
		cell_time(f, &first, s->r.last_ms);
		cell_text(f, &first, s->alive ? "true" : "false");
		cell_percent(f, &first, report_session_util(s));
		cell_text(f, &first, report_gpu_label(rep, s->gpu, label,
		    sizeof(label)));
		end_row(f);
	}
}

int
report_csv_write(FILE *f, const struct report *rep, enum csv_table t)
{
	static const char *const tick_names[] = { "host", "timestamp",
		"span_ms", "gpu_index", "gpu_uuid", "utilization_percent",
		"utilization_source", "state", "memory_held_mib", "process_count", "processes",
		"utilization_max_percent", "utilization_coverage_percent",
		"energy_joules", "energy_source", NULL };
	static const char *const process_names[] = { "host", "timestamp",
		"span_ms", "gpu_index", "gpu_uuid", "pid", "user", "command",
		"memory_mib", "sm_utilization_percent", "state", NULL };

	switch (t) {
	case CSV_GPUS:
		write_gpus(f, rep);
		break;
	case CSV_IDENTITIES:
		write_identities(f, rep);
		break;
	case CSV_SESSIONS:
		write_sessions(f, rep);
		break;
	case CSV_TICKS:
		header(f, tick_names);
		break;
	case CSV_PROCESSES:
		header(f, process_names);
		break;
	}
	fflush(f);
	return ferror(f) ? -1 : 0;
}

/*
 * The processes of a row as one cell: "PID/USER/MIB/STATE" for each,
 * separated by spaces; "?" for what is not known.
 */
static void
processes_cell(FILE *f, int *first, const struct report_row *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (m == NULL) {
		cell_empty(f, first);
		return;
	}
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct report_row_proc *p = &r->procs[i];

		fprintf(m, "%s%u/%s/", i ? " " : "", p->pid,
		    p->who->user[0] ? p->who->user : "?");
		if (p->mem_mib == MIB_UNKNOWN)
			fputs("?", m);
		else
			fprintf(m, "%lld", (long long)p->mem_mib);
		fprintf(m, "/%s", state_keys[p->state]);
	}
	fclose(m);
	cell_text(f, first, buf ? buf : "");
	free(buf);
}

int
report_csv_tick_row(FILE *f, const struct report_row *r)
{
	int first = 1;

	cell_text(f, &first, r->host);
	cell_time(f, &first, r->ts_ms);
	cell_int(f, &first, r->span_ms);
	cell_int(f, &first, r->gpu->index);
	cell_text(f, &first, r->gpu->uuid);
	if (r->reading.util_pm == UTIL_UNKNOWN)
		cell_empty(f, &first);
	else
		cell_double(f, &first, r->reading.util_pm / 10.0, 1);
	cell_text(f, &first, tick_source_name(r->reading.util_src));
	cell_text(f, &first, state_keys[r->state]);
	if (r->reading.procs_known && r->held_mib != MIB_UNKNOWN)
		cell_int(f, &first, r->held_mib);
	else
		cell_empty(f, &first);
	if (r->reading.procs_known)
		cell_int(f, &first, (int64_t)r->nprocs);
	else
		cell_empty(f, &first);
	processes_cell(f, &first, r);
	if (r->reading.util_max_pct < 0)
		cell_empty(f, &first);
	else
		cell_int(f, &first, r->reading.util_max_pct);
	if (r->reading.util_cover_pm < 0)
		cell_empty(f, &first);
	else
		cell_double(f, &first, r->reading.util_cover_pm / 10.0, 1);
	if (r->reading.energy_j == ENERGY_UNKNOWN)
		cell_empty(f, &first);
	else
		cell_int(f, &first, r->reading.energy_j);
	cell_text(f, &first, energy_source_name(r->reading.energy_src));
	end_row(f);
	return ferror(f) ? -1 : 0;
}

int
report_csv_process_rows(FILE *f, const struct report_row *r)
{
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct report_row_proc *p = &r->procs[i];
		int first = 1;

		cell_text(f, &first, r->host);
		cell_time(f, &first, r->ts_ms);
		cell_int(f, &first, r->span_ms);
		cell_int(f, &first, r->gpu->index);
		cell_text(f, &first, r->gpu->uuid);
		cell_int(f, &first, p->pid);
		cell_text(f, &first, p->who->user);
		cell_text(f, &first, p->who->comm);
		if (p->mem_mib == MIB_UNKNOWN)
			cell_empty(f, &first);
		else
			cell_int(f, &first, p->mem_mib);
		cell_percent(f, &first, p->util_pm == UTIL_UNKNOWN ? -1 :
		    p->util_pm / 10.0);
		cell_text(f, &first, state_keys[p->state]);
		end_row(f);
	}
	return ferror(f) ? -1 : 0;
}
