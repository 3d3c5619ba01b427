/*
 * The JSON writer. Every number here comes from struct report and the
 * derived functions of report.c, so it equals what the text report prints
 * before rounding.
 */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "report-json.h"
#include "tz.h"
#include "util.h"
#include "version.h"

#define RATIO_DECIMALS	6

/* Seconds from milliseconds: whole when exact, else with 3 decimals. */
static void
put_seconds(struct json *j, const char *key, int64_t ms)
{
	if (ms % 1000 == 0)
		json_int(j, key, ms / 1000);
	else
		json_double(j, key, (double)ms / 1000.0, 3);
}

/* "KEY": RFC 3339 in the report's zone, with its offset ("Z" in UTC),
   and "KEY_epoch_seconds": the same instant. */
static void
put_time(struct json *j, const char *key, int64_t ms)
{
	char buf[48], ekey[64];

	tz_format_rfc3339_ms(ms, buf, sizeof(buf));
	json_string(j, key, buf);
	snprintf(ekey, sizeof(ekey), "%s_epoch_seconds", key);
	put_seconds(j, ekey, ms);
}

static void
put_hours(struct json *j, const char *key, int64_t ms)
{
	json_double(j, key, (double)ms / MS_PER_HOUR, RATIO_DECIMALS);
}

/* A text that may be unknown: "" is written as null. */
static void
put_text(struct json *j, const char *key, const char *s)
{
	json_string(j, key, s[0] != '\0' ? s : NULL);
}

/* A process's own SM utilization (report_session_util): one decimal,
   as NVML gives no finer; null when unknown. */
static void
put_sm_util(struct json *j, double pct)
{
	if (pct < 0)
		json_null(j, "mean_sm_utilization_percent");
	else
		json_double(j, "mean_sm_utilization_percent", pct, 1);
}

/* The window [start, end]: ticks stamped after start and up to end. */
static void
put_window(struct json *j, const char *key, int64_t start_ms, int64_t end_ms)
{
	int64_t end = end_ms - 1 < start_ms ? start_ms : end_ms - 1;

	json_object_begin(j, key);
	put_time(j, "start", start_ms);
	put_time(j, "end", end);
	put_seconds(j, "duration_seconds", end - start_ms);
	json_object_end(j);
}

/*
 * "energy": kWh per state and in all, and the share of the time whose
 * energy was not recorded; null when none of it was (older data, or no
 * GPU that could tell), never 0 kWh.
 */
static void
put_energy(struct json *j, const struct rollup_gpu *r)
{
	static const char *const keys[] = { "active_kwh", "idle_held_kwh",
		"truly_idle_kwh", "unknown_state_kwh" };
	double unrecorded = report_energy_unrecorded(r);

	if (unrecorded >= 1) {
		json_null(j, "energy");
		return;
	}
	json_object_begin(j, "energy");
	for (int s = 0; s < STATE_COUNT; s++)
		json_double(j, keys[s], report_kwh(r->energy_j[s]),
		    RATIO_DECIMALS);
	json_double(j, "total_kwh", report_kwh(rollup_gpu_energy_j(r)),
	    RATIO_DECIMALS);
	json_double(j, "unrecorded_ratio", unrecorded, RATIO_DECIMALS);
	json_object_end(j);
}

/* The members every sum of GPU time has. */
static void
put_sums(struct json *j, const struct rollup_gpu *r)
{
	static const char *const ratio_keys[] = { "active_ratio",
		"idle_held_ratio", "truly_idle_ratio" };
	static const char *const hour_keys[] = { "active_gpu_hours",
		"idle_held_gpu_hours", "truly_idle_gpu_hours",
		"unknown_gpu_hours" };
	int known = rollup_gpu_known_ms(r) > 0;
	double util = report_mean_util(r);

	json_int(j, "samples", rollup_gpu_known_n(r));
	json_int(j, "unknown_samples", r->n[STATE_UNKNOWN]);
	for (int s = 0; s < 3; s++) {
		if (known)
			json_double(j, ratio_keys[s],
			    report_share(r, (enum state)s), RATIO_DECIMALS);
		else
			json_null(j, ratio_keys[s]);
	}
	for (int s = 0; s < STATE_COUNT; s++)
		put_hours(j, hour_keys[s], r->ms[s]);
	if (util < 0)
		json_null(j, "mean_utilization_percent");
	else
		json_double(j, "mean_utilization_percent", util, 3);
	put_energy(j, r);
}

static void
put_totals(struct json *j, const struct report *rep)
{
	json_object_begin(j, "totals");
	json_int(j, "gpu_count", (int64_t)rep->ngpus);
	put_sums(j, &rep->total);
	json_double(j, "idle_gpu_hours", report_idle_gpu_hours(rep),
	    RATIO_DECIMALS);
	json_double(j, "gpus_equivalently_unused", report_gpus_unused(rep),
	    RATIO_DECIMALS);
	/* The same apart: held and unused (waste), and free capacity. */
	json_double(j, "idle_held_gpus_equivalent",
	    report_gpus_in(rep, STATE_IDLE_HELD), RATIO_DECIMALS);
	json_double(j, "truly_idle_gpus_equivalent",
	    report_gpus_in(rep, STATE_TRULY_IDLE), RATIO_DECIMALS);
	json_object_end(j);
}

/* Money: a number with two decimals, from whole cents. */
static void
put_money(struct json *j, const char *key, int64_t cents)
{
	json_double(j, key, (double)cents / 100, 2);
}

/*
 * "cost": null without --cost-per-gpu-hour; else the price, its currency
 * (null when not given) and what the idle-held and all the observed
 * GPU-hours cost, in cents.
 */
static void
put_cost(struct json *j, const struct report *rep)
{
	const struct price *p = &rep->price;

	if (!p->set) {
		json_null(j, "cost");
		return;
	}
	json_object_begin(j, "cost");
	json_double(j, "per_gpu_hour", (double)p->micros / 1e6,
	    PRICE_DECIMALS);
	json_string(j, "currency", p->currency[0] != '\0' ? p->currency :
	    NULL);
	put_money(j, "idle_held", price_cents(p,
	    rep->total.ms[STATE_IDLE_HELD]));
	put_money(j, "observed", price_cents(p,
	    rollup_gpu_known_ms(&rep->total)));
	json_object_end(j);
}

static void
put_hosts(struct json *j, const struct report *rep)
{
	json_array_begin(j, "hosts");
	for (size_t i = 0; i < rep->nhosts; i++) {
		const struct report_host *h = &rep->hosts[i];

		json_object_begin(j, NULL);
		json_string(j, "hostname", h->hostname);
		put_text(j, "driver_version", h->driver_version);
		put_window(j, "window", h->start_ms, h->end_ms);
		if (h->ngpus > 0)
			json_double(j, "coverage_ratio",
			    report_host_coverage(h), RATIO_DECIMALS);
		else
			json_null(j, "coverage_ratio");
		json_int(j, "gpu_count", (int64_t)h->ngpus);
		json_object_begin(j, "totals");
		put_sums(j, &h->total);
		json_object_end(j);
		json_object_end(j);
	}
	json_array_end(j);
}

static void
put_gpus(struct json *j, const struct report *rep)
{
	json_array_begin(j, "gpus");
	for (size_t i = 0; i < rep->ngpus; i++) {
		const struct report_gpu *g = &rep->gpus[i];
		char label[96];

		json_object_begin(j, NULL);
		json_string(j, "host", rep->hosts[g->host].hostname);
		json_int(j, "index", g->info.index);
		json_string(j, "uuid", g->info.uuid);
		json_string(j, "label", report_gpu_label(rep, i, label,
		    sizeof(label)));
		put_text(j, "name", g->info.name);
		put_text(j, "parent_uuid", g->info.parent_uuid);
		if (g->info.mem_total_mib == MIB_UNKNOWN)
			json_null(j, "memory_total_mib");
		else
			json_int(j, "memory_total_mib", g->info.mem_total_mib);
		put_sums(j, &g->r);
		json_object_end(j);
	}
	json_array_end(j);
}

static void
put_identities(struct json *j, const struct report *rep)
{
	json_array_begin(j, "identities");
	for (size_t i = 0; i < rep->nids; i++) {
		const struct report_identity *id = &rep->ids[i];

		json_object_begin(j, NULL);
		json_string(j, "host", rep->hosts[id->host].hostname);
		/* The key's value; null for the processes without it. */
		json_string(j, "key", id->none ? NULL : id->name);
		/* The user, as the places: when all its processes share it. */
		put_text(j, "user", id->user);
		/* Where its processes ran, when they all share it. */
		put_text(j, "container", id->container);
		put_text(j, "pod", id->pod);
		put_text(j, "unit", id->unit);
		put_text(j, "slurm_job", id->slurm_job);
		put_text(j, "pod_namespace", id->pod_namespace);
		put_text(j, "pod_name", id->pod_name);
		json_int(j, "sessions", id->sessions);
		put_hours(j, "gpu_hours", id->ms);
		put_hours(j, "idle_held_gpu_hours", id->idle_ms);
		if (id->ms > 0)
			json_double(j, "idle_held_ratio", (double)id->idle_ms /
			    (double)id->ms, RATIO_DECIMALS);
		else
			json_null(j, "idle_held_ratio");
		json_double(j, "idle_held_gib_hours", (double)id->idle_mib_ms /
		    1024 / MS_PER_HOUR, RATIO_DECIMALS);
		put_sm_util(j, report_identity_util(id));
		if (rep->price.set)
			put_money(j, "idle_held_cost", price_cents(&rep->price,
			    id->idle_ms));
		else
			json_null(j, "idle_held_cost");
		json_object_end(j);
	}
	json_array_end(j);
}

static void
put_sessions(struct json *j, const struct report *rep)
{
	json_array_begin(j, "sessions");
	for (size_t i = 0; i < rep->nsessions; i++) {
		const struct report_session *s = &rep->sessions[i];
		const struct report_gpu *g = &rep->gpus[s->gpu];
		char label[96];

		json_object_begin(j, NULL);
		json_string(j, "host", rep->hosts[s->host].hostname);
		json_int(j, "gpu_index", g->info.index);
		json_string(j, "gpu_uuid", g->info.uuid);
		json_string(j, "gpu_label", report_gpu_label(rep, s->gpu, label,
		    sizeof(label)));
		json_int(j, "pid", s->pid);
		if (s->start_ms > 0)
			put_time(j, "process_start", s->start_ms);
		else {
			json_null(j, "process_start");
			json_null(j, "process_start_epoch_seconds");
		}
		put_text(j, "user", s->who.user);
		put_text(j, "command", s->who.comm);
		put_text(j, "command_line", s->who.cmdline);
		put_text(j, "container", s->who.container);
		put_text(j, "pod", s->who.pod);
		put_text(j, "unit", s->who.unit);
		put_text(j, "slurm_job", s->who.slurm_job);
		put_text(j, "pod_namespace", s->who.pod_namespace);
		put_text(j, "pod_name", s->who.pod_name);
		put_text(j, "container_name", s->who.container_name);
		if (s->r.peak_mib == MIB_UNKNOWN)
			json_null(j, "peak_memory_mib");
		else
			json_int(j, "peak_memory_mib", s->r.peak_mib);
		json_int(j, "samples", s->r.n);
		put_seconds(j, "present_seconds", s->r.ms);
		put_seconds(j, "idle_held_seconds", s->r.idle_ms);
		json_double(j, "idle_held_gib_hours", (double)s->r.idle_mib_ms /
		    1024 / MS_PER_HOUR, RATIO_DECIMALS);
		put_sm_util(j, report_session_util(s));
		put_time(j, "first_seen", s->r.first_ms);
		put_time(j, "last_seen", s->r.last_ms);
		json_bool(j, "alive", s->alive);
		json_object_end(j);
	}
	json_array_end(j);
}

static void
put_grid(struct json *j, const char *key, const struct report *rep,
    enum state s)
{
	json_array_begin(j, key);
	for (int d = 0; d < 7; d++) {
		json_array_begin(j, NULL);
		for (int h = 0; h < 24; h++) {
			const struct rollup_gpu *c = &rep->heat[d][h];

			if (rollup_gpu_known_ms(c) == 0)
				json_null(j, NULL);
			else
				json_double(j, NULL, report_share(c, s),
				    RATIO_DECIMALS);
		}
		json_array_end(j);
	}
	json_array_end(j);
}

static void
put_timeline(struct json *j, const struct report *rep)
{
	json_object_begin(j, "timeline");
	put_time(j, "start", rep->timeline_start_ms);
	put_seconds(j, "bucket_seconds", rep->timeline_step_ms);
	json_array_begin(j, "buckets");
	for (size_t i = 0; i < rep->ntimeline; i++) {
		json_object_begin(j, NULL);
		put_time(j, "start", rep->timeline_start_ms +
		    (int64_t)i * rep->timeline_step_ms);
		put_sums(j, &rep->timeline[i]);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

int
report_json_write(FILE *f, const struct report *rep)
{
	struct json j;
	char gen[64];

	json_init(&j, f, 2);
	json_object_begin(&j, NULL);
	json_int(&j, "schema_version", REPORT_JSON_SCHEMA_VERSION);
	snprintf(gen, sizeof(gen), "gua %s", GUA_VERSION);
	json_string(&j, "generator", gen);
	/* One host: its name and driver; several: see hosts[]. */
	if (rep->nhosts == 1) {
		json_string(&j, "hostname", rep->hosts[0].hostname);
		put_text(&j, "driver_version", rep->hosts[0].driver_version);
	} else {
		json_null(&j, "hostname");
		json_null(&j, "driver_version");
	}
	put_window(&j, "window", rep->start_ms, rep->end_ms);
	/* The part of the window known from hourly rollups only. */
	if (rep->hourly_end_ms > rep->hourly_start_ms)
		put_window(&j, "hourly_only", rep->hourly_start_ms,
		    rep->hourly_end_ms);
	else
		json_null(&j, "hourly_only");
	json_string(&j, "time_zone", tz_name());
	json_object_begin(&j, "thresholds");
	json_int(&j, "active_utilization_percent", rep->thr.active_util);
	json_int(&j, "held_memory_mib", rep->thr.held_mib);
	json_object_end(&j);
	if (rep->ngpus > 0)
		json_double(&j, "coverage_ratio", report_coverage(rep),
		    RATIO_DECIMALS);
	else
		json_null(&j, "coverage_ratio");
	put_totals(&j, rep);
	put_cost(&j, rep);
	put_hosts(&j, rep);
	put_gpus(&j, rep);
	/* A filter: what the numbers count (report.h, filtered). */
	if (rep->filtered[0] != '\0')
		json_string(&j, "filter", rep->filtered);
	else
		json_null(&j, "filter");
	/* --gpu: the one GPU counted. */
	if (rep->only_gpu[0] != '\0')
		json_string(&j, "only_gpu", rep->only_gpu);
	else
		json_null(&j, "only_gpu");
	json_string(&j, "identities_by", report_key_name(rep->by));
	/* --top: the first of each, and how many it left out. */
	put_identities(&j, rep);
	json_int(&j, "identities_omitted", (int64_t)report_ids_omitted(rep));
	put_sessions(&j, rep);
	json_int(&j, "sessions_omitted",
	    (int64_t)report_sessions_omitted(rep, 0));
	json_object_begin(&j, "heatmaps");
	put_grid(&j, "active", rep, STATE_ACTIVE);
	put_grid(&j, "idle_held", rep, STATE_IDLE_HELD);
	json_object_end(&j);
	put_timeline(&j, rep);
	json_object_end(&j);
	return json_finish(&j);
}
