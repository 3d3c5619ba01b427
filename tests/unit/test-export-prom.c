#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "export-prom.h"
#include "fixture.h"
#include "harness.h"
#include "report.h"

#define T0	1795602600000LL		/* 2026-11-25T10:30:00Z */

static char *
printed(const struct export_prom *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK_INT(export_prom_print(p, f), 0);
	fclose(f);
	return buf;
}

/*
 * A careful reading of the text exposition format: every sample belongs to
 * a family announced by exactly one HELP and one TYPE before it; names and
 * label names are valid; label values are quoted with only \\, \" and \n
 * escaped; the value is a number; no timestamp; no series twice; counters
 * end in _total. Returns the number of samples, or -1 with a message.
 */
/* Whether validate() says why it refuses (not for the refusal tests). */
static int loud = 1;
#define complain(...)	(loud ? fprintf(stderr, __VA_ARGS__) : 0)

static int
validate(const char *text)
{
	char fams[32][96], series[256][512], type[32][16];
	int nfams = 0, nseries = 0, samples = 0;
	const char *line = text;

	while (*line != '\0') {
		const char *end = strchr(line, '\n'), *p = line;
		char name[96], key[512];
		size_t n = 0, k = 0;
		int fam = -1;

		if (end == NULL) {
			complain("no final newline\n");
			return -1;
		}
		if (strncmp(line, "# HELP ", 7) == 0 ||
		    strncmp(line, "# TYPE ", 7) == 0) {
			int help = line[2] == 'H';

			p = line + 7;
			while (p < end && *p != ' ' && n < sizeof(name) - 1)
				name[n++] = *p++;
			name[n] = '\0';
			for (int i = 0; i < nfams; i++)
				if (strcmp(fams[i], name) == 0)
					fam = i;
			if (help) {
				if (fam >= 0) {
					complain("HELP %s twice\n", name);
					return -1;
				}
				if (nfams == 32)
					return -1;
				util_strlcpy(fams[nfams], name, 96);
				type[nfams][0] = '\0';
				nfams++;
			} else {
				if (fam < 0 || type[fam][0] != '\0' ||
				    (strncmp(p, " counter\n", 9) != 0 &&
				    strncmp(p, " gauge\n", 7) != 0)) {
					complain("bad TYPE %s\n", name);
					return -1;
				}
				util_strlcpy(type[fam], p + 1, 8);
				type[fam][strcspn(type[fam], "\n")] = '\0';
				if (strcmp(type[fam], "counter") == 0 &&
				    (n < 6 || strcmp(name + n - 6, "_total") != 0)) {
					complain("counter %s\n", name);
					return -1;
				}
			}
			line = end + 1;
			continue;
		}
		if (line[0] == '#') {
			complain("stray comment\n");
			return -1;
		}
		/* A sample: name{labels} value */
		while (p < end && (*p == '_' || *p == ':' ||
		    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (n > 0 && *p >= '0' && *p <= '9')) && n < sizeof(name) - 1)
			name[n++] = *p++;
		name[n] = '\0';
		for (int i = 0; i < nfams; i++)
			if (strcmp(fams[i], name) == 0)
				fam = i;
		if (n == 0 || fam < 0 || fam != nfams - 1 ||
		    type[fam][0] == '\0') {
			complain("sample of no family: %.*s\n",
			    (int)(end - line), line);
			return -1;
		}
		k = (size_t)snprintf(key, sizeof(key), "%s", name);
		if (*p == '{') {
			p++;
			while (p < end && *p != '}') {
				const char *ls = p;

				while (p < end && (*p == '_' || (*p >= 'a' &&
				    *p <= 'z')))
					p++;
				if (p == ls || p[0] != '=' || p[1] != '"') {
					complain("bad label: %.*s\n",
					    (int)(end - line), line);
					return -1;
				}
				p += 2;
				while (p < end && *p != '"') {
					if (*p == '\\') {
						if (p[1] != '\\' && p[1] != '"' &&
						    p[1] != 'n') {
							complain("bad "
							    "escape\n");
							return -1;
						}
						p++;
					}
					p++;
				}
				if (p >= end) {
					complain("open quote\n");
					return -1;
				}
				p++;
				if (*p == ',')
					p++;
			}
			if (p >= end)
				return -1;
			if (k < sizeof(key))
				snprintf(key + k, sizeof(key) - k, "%.*s",
				    (int)(p + 1 - (strchr(line, '{'))),
				    strchr(line, '{'));
			p++;
		}
		if (*p != ' ') {
			complain("no value: %.*s\n", (int)(end - line),
			    line);
			return -1;
		}
		{
			char *vend;

			strtod(p + 1, &vend);
			if (vend == p + 1 || vend != end) {
				complain("bad value or a timestamp: "
				    "%.*s\n", (int)(end - line), line);
				return -1;
			}
		}
		for (int i = 0; i < nseries; i++)
			if (strcmp(series[i], key) == 0) {
				complain("series twice: %s\n", key);
				return -1;
			}
		if (nseries < 256)
			util_strlcpy(series[nseries++], key, sizeof(series[0]));
		samples++;
		line = end + 1;
	}
	return samples;
}

/* Two GPUs, one tick: GPU 0 active for alice, drawing 300 W by its
   counter; GPU 1 idle-held by bob, its energy unknown. */
static void
tick_one(struct tick *t, int64_t ts, int64_t span)
{
	struct tick_gpu *g0, *g1;

	tick_reset(t);
	t->ts_ms = ts;
	t->span_ms = span;
	g0 = fixture_gpu(t, 0, 80);
	g0->energy_mj = 300 * span;	/* W x ms = mJ */
	g0->energy_src = ENERGY_SRC_COUNTER;
	fixture_proc(g0, 100, 1, "alice", 70000, -1);
	g1 = fixture_gpu(t, 1, 2);
	g1->mem_total_mib = 40960;
	snprintf(g1->name, sizeof(g1->name), "Odd \"GPU\" \\ name\nline");
	fixture_proc(g1, 200, 1, "bob", 8000, -1);
	fixture_proc(g1, 300, 1, NULL, 50, -1);
}

static const char expected[] =
    "# HELP gua_gpu_state_seconds_total GPU time observed in each state "
    "(active, idle_held, truly_idle, unknown), from the recorded tick "
    "spans.\n"
    "# TYPE gua_gpu_state_seconds_total counter\n"
    "gua_gpu_state_seconds_total{gpu=\"0\",uuid=\"GPU-test-0\","
    "state=\"active\"} 40\n"
    "gua_gpu_state_seconds_total{gpu=\"0\",uuid=\"GPU-test-0\","
    "state=\"idle_held\"} 0\n"
    "gua_gpu_state_seconds_total{gpu=\"0\",uuid=\"GPU-test-0\","
    "state=\"truly_idle\"} 0\n"
    "gua_gpu_state_seconds_total{gpu=\"0\",uuid=\"GPU-test-0\","
    "state=\"unknown\"} 0\n"
    "gua_gpu_state_seconds_total{gpu=\"1\",uuid=\"GPU-test-1\","
    "state=\"active\"} 0\n"
    "gua_gpu_state_seconds_total{gpu=\"1\",uuid=\"GPU-test-1\","
    "state=\"idle_held\"} 40\n"
    "gua_gpu_state_seconds_total{gpu=\"1\",uuid=\"GPU-test-1\","
    "state=\"truly_idle\"} 0\n"
    "gua_gpu_state_seconds_total{gpu=\"1\",uuid=\"GPU-test-1\","
    "state=\"unknown\"} 0\n"
    "# HELP gua_gpu_energy_joules_total GPU energy in each state (active, "
    "idle_held, truly_idle, unknown), from NVML's total-energy counter, "
    "else power usage x tick span; absent for a GPU that could tell "
    "neither.\n"
    "# TYPE gua_gpu_energy_joules_total counter\n"
    "gua_gpu_energy_joules_total{gpu=\"0\",uuid=\"GPU-test-0\","
    "state=\"active\"} 12000\n"
    "gua_gpu_energy_joules_total{gpu=\"0\",uuid=\"GPU-test-0\","
    "state=\"idle_held\"} 0\n"
    "gua_gpu_energy_joules_total{gpu=\"0\",uuid=\"GPU-test-0\","
    "state=\"truly_idle\"} 0\n"
    "gua_gpu_energy_joules_total{gpu=\"0\",uuid=\"GPU-test-0\","
    "state=\"unknown\"} 0\n"
    "# HELP gua_gpu_utilization_ratio GPU utilization over the latest "
    "tick, 0 to 1 (absent when NVML could not tell).\n"
    "# TYPE gua_gpu_utilization_ratio gauge\n"
    "gua_gpu_utilization_ratio{gpu=\"0\",uuid=\"GPU-test-0\"} 0.800\n"
    "gua_gpu_utilization_ratio{gpu=\"1\",uuid=\"GPU-test-1\"} 0.020\n"
    "# HELP gua_gpu_memory_held_bytes Memory held by the GPU's processes "
    "at the latest tick (their own memory, not the driver's "
    "reservations).\n"
    "# TYPE gua_gpu_memory_held_bytes gauge\n"
    "gua_gpu_memory_held_bytes{gpu=\"0\",uuid=\"GPU-test-0\"} "
    "73400320000\n"
    "gua_gpu_memory_held_bytes{gpu=\"1\",uuid=\"GPU-test-1\"} "
    "8441036800\n"
    "# HELP gua_gpu_memory_total_bytes The GPU's total memory as NVML "
    "reports it at the latest tick (absent when NVML could not tell).\n"
    "# TYPE gua_gpu_memory_total_bytes gauge\n"
    "gua_gpu_memory_total_bytes{gpu=\"0\",uuid=\"GPU-test-0\"} "
    "85899345920\n"
    "gua_gpu_memory_total_bytes{gpu=\"1\",uuid=\"GPU-test-1\"} "
    "42949672960\n"
    "# HELP gua_gpu_info The GPUs gua has seen, with their names; always "
    "1.\n"
    "# TYPE gua_gpu_info gauge\n"
    "gua_gpu_info{gpu=\"0\",uuid=\"GPU-test-0\",name=\"Test GPU\","
    "driver_version=\"560.35.05\"} 1\n"
    "gua_gpu_info{gpu=\"1\",uuid=\"GPU-test-1\",name=\"Odd \\\"GPU\\\" "
    "\\\\ name\\nline\",driver_version=\"560.35.05\"} 1\n"
    "# HELP gua_process_idle_held_seconds_total Process time idle-held "
    "(holding memory at low utilization), per user and GPU; the first 20 "
    "users only, the rest as (other).\n"
    "# TYPE gua_process_idle_held_seconds_total counter\n"
    "gua_process_idle_held_seconds_total{user=\"bob\",gpu=\"1\",uuid=\"GPU-test-1\"} 40\n"
    "# HELP gua_process_idle_held_streak_seconds How long a process has "
    "been idle-held on a GPU without a break, as of the latest tick; the "
    "20 longest current streaks only.\n"
    "# TYPE gua_process_idle_held_streak_seconds gauge\n"
    "# HELP gua_last_tick_timestamp_seconds When the latest tick was "
    "recorded, in seconds since the epoch.\n"
    "# TYPE gua_last_tick_timestamp_seconds gauge\n"
    "gua_last_tick_timestamp_seconds 1795602630.500\n"
    "# HELP gua_tick_errors_total Ticks that could not be sampled or "
    "recorded.\n"
    "# TYPE gua_tick_errors_total counter\n"
    "gua_tick_errors_total 1\n"
    "# HELP gua_build_info The gua that writes this file.\n"
    "# TYPE gua_build_info gauge\n"
    "gua_build_info{version=\"" GUA_VERSION "\"} 1\n";

static int
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
test_exposition(void)
{
	struct export_prom *p;
	struct thresholds thr;
	struct tick t;
	char err[512], dir[512], path[600], other[600], *text, buf[8192];
	FILE *f;
	size_t n;

	classify_defaults(&thr);
	memset(&t, 0, sizeof(t));
	snprintf(dir, sizeof(dir), "%s", fixture_path("textfile"));
	CHECK_INT(mkdir(dir, 0755), 0);
	CHECK_INT(export_prom_open(&p, dir, "560.35.05", err, sizeof(err)), 0);
	/* Nothing yet: the families, no samples but the error count. */
	text = printed(p);
	CHECK_INT(validate(text), 2);
	free(text);
	for (int i = 0; i < 4; i++) {
		tick_one(&t, T0 + i * 10000, 10000);
		CHECK_INT(export_prom_add_tick(p, &t, &thr, err, sizeof(err)),
		    0);
	}
	tick_reset(&t);
	tick_one(&t, T0 + 30500, 0);
	CHECK_INT(export_prom_add_tick(p, &t, &thr, err, sizeof(err)), 0);
	export_prom_count_error(p);
	text = printed(p);
	CHECK_STR(text, expected);
	CHECK_INT(validate(text), 8 + 4 + 2 + 2 + 2 + 2 + 1 + 1 + 1 + 1);

	/* The file holds the same text, and no temporary file is left. */
	CHECK_INT(export_prom_write(p, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/gua.prom", dir);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		CHECK_STR(buf, text);
	}
	CHECK_INT(count_files(dir), 1);
	free(text);

	/* Removed at a clean stop: the file goes, and once is enough. */
	CHECK_INT(export_prom_remove(p, err, sizeof(err)), 0);
	CHECK_INT(count_files(dir), 0);
	CHECK_INT(export_prom_remove(p, err, sizeof(err)), 0);
	/* A file someone else put in its place is not the collector's. */
	CHECK_INT(export_prom_write(p, err, sizeof(err)), 0);
	snprintf(other, sizeof(other), "%s/other", dir);
	f = fopen(other, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs("other 1\n", f);
		fclose(f);
	}
	CHECK_INT(rename(other, path), 0);
	CHECK_INT(export_prom_remove(p, err, sizeof(err)), 0);
	CHECK_INT(count_files(dir), 1);
	f = fopen(path, "r");
	CHECK(f != NULL && fgets(buf, sizeof(buf), f) != NULL &&
	    strcmp(buf, "other 1\n") == 0);
	if (f != NULL)
		fclose(f);

	/* A GPU missing from a tick keeps its counters, loses its gauges. */
	tick_reset(&t);
	t.ts_ms = T0 + 40000;
	t.span_ms = 10000;
	fixture_gpu(&t, 0, -1)->mem_total_mib = MIB_UNKNOWN;
	t.gpus[0].energy_mj = 500000;
	t.gpus[0].energy_src = ENERGY_SRC_POWER;
	CHECK_INT(export_prom_add_tick(p, &t, &thr, err, sizeof(err)), 0);
	text = printed(p);
	CHECK(strstr(text, "gua_gpu_energy_joules_total{gpu=\"0\",uuid=\""
	    "GPU-test-0\",state=\"unknown\"} 500\n") != NULL);
	CHECK(strstr(text, "gua_gpu_energy_joules_total{gpu=\"1\"") == NULL);
	CHECK(strstr(text, "gua_gpu_utilization_ratio{") == NULL);
	CHECK(strstr(text, "gua_gpu_memory_total_bytes{") == NULL);
	CHECK(strstr(text, "{gpu=\"0\",uuid=\"GPU-test-0\",state=\"unknown\"} "
	    "10\n") != NULL);
	CHECK(strstr(text, "gua_gpu_memory_held_bytes{gpu=\"0\"") != NULL);
	CHECK(strstr(text, "gua_gpu_memory_held_bytes{gpu=\"1\"") == NULL);
	CHECK(strstr(text, "state=\"idle_held\"} 40\n") != NULL);
	CHECK(validate(text) > 0);
	free(text);
	export_prom_close(p);
	tick_free(&t);

	/* Bad directories are refused at open. */
	CHECK_INT(export_prom_open(&p, fixture_path("none"), "", err,
	    sizeof(err)), -1);
	CHECK(strstr(err, "No such file") != NULL);
	CHECK_INT(export_prom_open(&p, path, "", err, sizeof(err)), -1);
	CHECK(strstr(err, "not a directory") != NULL);
	CHECK_INT(export_prom_open(&p, "", "", err, sizeof(err)), -1);
}

/* Past the top users, everyone else is one "(other)" series per GPU. */
static void
test_top_users(void)
{
	struct export_prom *p;
	struct thresholds thr;
	struct tick t;
	char err[512], user[32], *text;

	classify_defaults(&thr);
	memset(&t, 0, sizeof(t));
	CHECK_INT(export_prom_open(&p, fixture_path("textfile"), "", err,
	    sizeof(err)), 0);
	for (int i = 0; i < EXPORT_PROM_TOP_USERS + 5; i++) {
		struct tick_gpu *g;

		tick_reset(&t);
		t.ts_ms = T0 + i * 1000;
		t.span_ms = 1000;
		g = fixture_gpu(&t, 0, 0);
		snprintf(user, sizeof(user), "user%02d", i);
		fixture_proc(g, (uint32_t)(100 + i), 1, user, 500, -1);
		CHECK_INT(export_prom_add_tick(p, &t, &thr, err, sizeof(err)),
		    0);
	}
	text = printed(p);
	CHECK(strstr(text, "{user=\"user00\",gpu=\"0\",uuid=\"GPU-test-0\"} "
	    "1\n") != NULL);
	CHECK(strstr(text, "{user=\"user19\",gpu=\"0\",uuid=\"GPU-test-0\"} "
	    "1\n") != NULL);
	CHECK(strstr(text, "user20") == NULL);
	CHECK(strstr(text, "{user=\"(other)\",gpu=\"0\",uuid=\"GPU-test-0\"} "
	    "5\n") != NULL);
	CHECK(validate(text) > 0);
	free(text);
	export_prom_close(p);
	tick_free(&t);
}

/*
 * Two GPUs of one history with the same index (a card replaced, indexes
 * shifted after a reboot): their series stay distinct by uuid.
 */
static void
test_shared_index(void)
{
	struct export_prom *p;
	struct thresholds thr;
	struct tick t;
	char err[512], *text;

	classify_defaults(&thr);
	memset(&t, 0, sizeof(t));
	CHECK_INT(export_prom_open(&p, fixture_path("textfile"), "", err,
	    sizeof(err)), 0);
	for (int i = 0; i < 2; i++) {
		struct tick_gpu *g;

		tick_reset(&t);
		t.ts_ms = T0 + i * 1000;
		t.span_ms = 1000;
		g = fixture_gpu(&t, 0, 0);
		if (i == 1)
			util_strlcpy(g->uuid, "GPU-replacement", sizeof(g->uuid));
		fixture_proc(g, 100, 1, "alice", 500, -1);
		CHECK_INT(export_prom_add_tick(p, &t, &thr, err, sizeof(err)),
		    0);
	}
	text = printed(p);
	CHECK(strstr(text, "{user=\"alice\",gpu=\"0\",uuid=\"GPU-test-0\"} "
	    "1\n") != NULL);
	CHECK(strstr(text, "{user=\"alice\",gpu=\"0\",uuid=\"GPU-replacement"
	    "\"} 1\n") != NULL);
	CHECK(validate(text) > 0);
	free(text);
	export_prom_close(p);
	tick_free(&t);
}

/* Seeded from the database, the counters go on from its history. */
static void
test_seed(void)
{
	struct store *s = fixture_create("seed.db", 10000);
	struct export_prom *p;
	struct report_options o;
	struct thresholds thr;
	struct report rep;
	struct tick t;
	char err[512], *text;

	classify_defaults(&thr);
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 6; i++) {
		tick_one(&t, T0 + i * 10000, 10000);
		fixture_write(s, &t, T0 + i * 10000, 10000);
	}
	memset(&o, 0, sizeof(o));
	o.until_ms = T0 + 50000;
	o.since_ms = 36500 * MS_PER_DAY;
	o.gpu_id = -1;
	o.thr = thr;
	CHECK_INT(report_build(s, &o, &rep, err, sizeof(err)), 0);
	CHECK_INT(export_prom_open(&p, fixture_path("textfile"), "", err,
	    sizeof(err)), 0);
	CHECK_INT(export_prom_seed(p, &rep, err, sizeof(err)), 0);
	tick_one(&t, T0 + 60000, 10000);
	CHECK_INT(export_prom_add_tick(p, &t, &thr, err, sizeof(err)), 0);
	text = printed(p);
	CHECK(strstr(text, "{gpu=\"0\",uuid=\"GPU-test-0\",state=\"active\"} "
	    "70\n") != NULL);
	CHECK(strstr(text, "{user=\"bob\",gpu=\"1\",uuid=\"GPU-test-1\"} 70\n") != NULL);
	/* The energy goes on from the history's: 7 ticks of 3000 J. */
	CHECK(strstr(text, "gua_gpu_energy_joules_total{gpu=\"0\",uuid=\""
	    "GPU-test-0\",state=\"active\"} 21000\n") != NULL);
	CHECK(strstr(text, "gua_last_tick_timestamp_seconds 1795602660\n") !=
	    NULL);
	CHECK(validate(text) > 0);
	free(text);
	export_prom_close(p);
	report_free(&rep);
	store_close(s);
	tick_free(&t);
}

/* A GPU 0 tick of 10 s whose energy the meter gives for a read. */
static int64_t
energy_after(struct export_prom *p, struct energy_meter *m, uint64_t mj,
    int64_t ts)
{
	/* 100 W; read at the tick's time, 10 s after the one before. */
	struct energy_read r = { 1, mj, 1, 100000, ts };
	struct thresholds thr;
	struct tick t;
	char err[256], *text, *at;
	long long j = -1;

	classify_defaults(&thr);
	memset(&t, 0, sizeof(t));
	tick_one(&t, ts, 10000);
	t.gpus[0].energy_src = energy_tick(m, &r, 10000, &t.gpus[0].energy_mj);
	CHECK_INT(export_prom_add_tick(p, &t, &thr, err, sizeof(err)), 0);
	text = printed(p);
	at = strstr(text, "gua_gpu_energy_joules_total{gpu=\"0\",uuid=\""
	    "GPU-test-0\",state=\"active\"} ");
	CHECK(at != NULL);
	if (at != NULL)
		j = strtoll(strchr(at, '}') + 2, NULL, 10);
	free(text);
	tick_free(&t);
	return j;
}

/*
 * The counter only grows: a driver reload's reset of NVML's counter is
 * power x span for that tick, never a step back.
 */
static void
test_energy_reset(void)
{
	struct export_prom *p;
	struct energy_meter m;
	char err[256];

	memset(&m, 0, sizeof(m));
	CHECK_INT(export_prom_open(&p, NULL, "", err, sizeof(err)), 0);
	/* First read: power x span, 1000 J; then the counter's 1500 J. */
	CHECK_INT(energy_after(p, &m, 5000000, T0), 1000);
	CHECK_INT(energy_after(p, &m, 6500000, T0 + 10000), 2500);
	/* The driver reloaded: the counter restarts near 0. */
	CHECK_INT(energy_after(p, &m, 200000, T0 + 20000), 3500);
	CHECK_INT(energy_after(p, &m, 1400000, T0 + 30000), 4700);
	export_prom_close(p);
}

/* Whether text has a control character other than the lines' LF. */
static int
has_raw_control(const char *text)
{
	for (const unsigned char *s = (const unsigned char *)text; *s; s++)
		if ((*s < 0x20 && *s != '\n') || *s == 0x7f ||
		    (s[0] == 0xc2 && s[1] >= 0x80 && s[1] < 0xa0))
			return 1;
	return 0;
}

/*
 * NVML's strings (a GPU's name and UUID, the driver version) and user
 * names reach the file with their control characters made visible, as
 * in the text report, and the file stays valid exposition format.
 */
static void
test_control_chars(void)
{
	struct export_prom *p;
	struct thresholds thr;
	struct tick t;
	struct tick_gpu *g;
	char err[512], dir[512], *text;

	classify_defaults(&thr);
	memset(&t, 0, sizeof(t));
	snprintf(dir, sizeof(dir), "%s", fixture_path("textfile-ctl"));
	CHECK_INT(mkdir(dir, 0755), 0);
	CHECK_INT(export_prom_open(&p, dir, "560\x1b[5m", err, sizeof(err)),
	    0);
	t.ts_ms = T0;
	t.span_ms = 10000;
	g = fixture_gpu(&t, 0, 0);
	snprintf(g->name, sizeof(g->name), "\x1b[31mEvil\x1b[0m\tGPU\x7f");
	snprintf(g->uuid, sizeof(g->uuid), "GPU-\x1b]0;title\x07\xc2\x9b");
	fixture_proc(g, 100, 1, "\x1b[2Jmallory", 8000, -1);
	CHECK_INT(export_prom_add_tick(p, &t, &thr, err, sizeof(err)), 0);
	text = printed(p);
	CHECK(!has_raw_control(text));
	CHECK(validate(text) > 0);
	CHECK(strstr(text, "name=\"\\\\x1B[31mEvil\\\\x1B[0m\\\\tGPU"
	    "\\\\x7F\"") != NULL);
	CHECK(strstr(text, "uuid=\"GPU-\\\\x1B]0;title\\\\x07"
	    "\\\\u{9B}\"") != NULL);
	CHECK(strstr(text, "driver_version=\"560\\\\x1B[5m\"") != NULL);
	CHECK(strstr(text, "user=\"\\\\x1B[2Jmallory\"") != NULL);
	free(text);

	/* A GPU whose processes' memory is all unknown holds an unknown
	   amount: no gauge, never 0. */
	tick_reset(&t);
	t.ts_ms = T0 + 10000;
	t.span_ms = 10000;
	g = fixture_gpu(&t, 0, 0);
	fixture_proc(g, 100, 1, "alice", MIB_UNKNOWN, -1);
	CHECK_INT(export_prom_add_tick(p, &t, &thr, err, sizeof(err)), 0);
	text = printed(p);
	CHECK(strstr(text, "gua_gpu_memory_held_bytes{") == NULL);
	free(text);
	export_prom_close(p);
	tick_free(&t);
}

/* The validator itself refuses what the format forbids. */
static void
test_validator(void)
{
	static const char *const bad[] = {
		"a_total 1\n",
		"# HELP a x\n# HELP a y\n# TYPE a gauge\na 1\n",
		"# HELP a x\n# TYPE a gauge\na 1 1795602600000\n",
		"# HELP a x\n# TYPE a counter\na 1\n",
		"# HELP a x\n# TYPE a gauge\na{l=\"x\\ty\"} 1\n",
		"# HELP a x\n# TYPE a gauge\na{l=\"x} 1\n",
		"# HELP a x\n# TYPE a gauge\na 1\na 2\n",
		"# HELP a x\n# TYPE a gauge\na one\n",
		"# HELP a x\n# TYPE a gauge\na 1",
	};

	loud = 0;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		CHECK_INT(validate(bad[i]), -1);
	loud = 1;
	CHECK_INT(validate("# HELP a x\n# TYPE a gauge\na{l=\"\\\"\\n\"} 1\n"),
	    1);
}

/*
 * The current streaks: the 20 longest, longest first, labelled by GPU,
 * user (escaped) and PID, and gone with their streak.
 */
static void
test_streaks(void)
{
	struct export_prom *p;
	struct streaks *ss;
	struct thresholds thr;
	struct tick t;
	char err[512], dir[512], want[256], *text;

	classify_defaults(&thr);
	memset(&t, 0, sizeof(t));
	snprintf(dir, sizeof(dir), "%s", fixture_path("streaks"));
	CHECK_INT(mkdir(dir, 0755), 0);
	CHECK_INT(export_prom_open(&p, dir, "560", err, sizeof(err)), 0);
	CHECK_INT(streaks_new(&ss, err, sizeof(err)), 0);
	export_prom_follow_streaks(p, ss);
	/* 25 holders; holder i idle-held from tick i on, for 25 ticks. */
	for (int k = 0; k < 25; k++) {
		struct tick_gpu *g;

		tick_reset(&t);
		t.ts_ms = T0 + k * 1000;
		t.span_ms = 1500;
		g = fixture_gpu(&t, 1, 0);
		for (int i = 0; i <= k; i++)
			fixture_proc(g, (uint32_t)(1000 + i), 1, i == 0 ?
			    "ev\"il\n" : "u", 500, 0);
		CHECK_INT(export_prom_add_tick(p, &t, &thr, err, sizeof(err)),
		    0);
		CHECK_INT(streaks_add_tick(ss, &t, &thr, err, sizeof(err)), 0);
	}
	text = printed(p);
	CHECK_INT(validate(text) >= 8, 1);
	/* The longest: holder 0, 25 ticks of 1.5 s, its user escaped. */
	CHECK(strstr(text, "gua_process_idle_held_streak_seconds{gpu=\"1\","
	    "uuid=\"GPU-test-1\",user=\"ev\\\"il\\n\",pid=\"1000\"} 37.500\n")
	    != NULL);
	/* Holder 19 is the 20th longest (6 ticks), 20 is left out. */
	CHECK(strstr(text, "pid=\"1019\"} 9\n") != NULL);
	CHECK(strstr(text, "pid=\"1020\"}") == NULL);
	{
		size_t n = 0;
		const char *c = text;

		while ((c = strstr(c, "\ngua_process_idle_held_streak_seconds{"))
		    != NULL) {
			n++;
			c++;
		}
		CHECK_INT(n, EXPORT_PROM_TOP_STREAKS);
	}
	/* Longest first. */
	CHECK(strstr(text, "pid=\"1000\"}") < strstr(text, "pid=\"1001\"}"));
	free(text);
	/* Holder 0 computes: its series is gone, holder 20 comes in. */
	tick_reset(&t);
	t.span_ms = 1000;
	{
		struct tick_gpu *g = fixture_gpu(&t, 1, 0);

		fixture_proc(g, 1000, 1, "x", 500, 90);
		for (int i = 1; i < 25; i++)
			fixture_proc(g, (uint32_t)(1000 + i), 1, "u", 500, 0);
	}
	CHECK_INT(streaks_add_tick(ss, &t, &thr, err, sizeof(err)), 0);
	text = printed(p);
	CHECK(strstr(text, "pid=\"1000\"}") == NULL);
	snprintf(want, sizeof(want), "pid=\"1020\"} 8.500\n");
	CHECK(strstr(text, want) != NULL);
	free(text);
	tick_free(&t);
	streaks_free(ss);
	export_prom_close(p);
}

/*
 * --metrics-by: the idle series follow the unit, under its own label
 * (slurm_job, not Prometheus's job), "(none)" for a process without it,
 * a pod as namespace/name (its uid while the names are unknown), still
 * EXPORT_PROM_TOP_USERS series and "(other)". Without a directory the
 * counters are kept and rendered, and nothing is written.
 */
static void
test_metrics_by(void)
{
	static const struct {
		const char	*word;
		const char	*want[4];	/* the four processes' series */
	} cases[] = {
		{ "user", { "{user=\"ann\",", "{user=\"bo\",", "{user=\"cy\",",
		    "{user=\"dee\"," } },
		{ "job", { "{slurm_job=\"job_42\",", "{slurm_job=\"(none)\",",
		    "{slurm_job=\"(none)\",", "{slurm_job=\"(none)\"," } },
		{ "pod", { "{pod=\"(none)\",", "{pod=\"ml/train-0\",",
		    "{pod=\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\",",
		    "{pod=\"(none)\"," } },
		{ "namespace", { "{namespace=\"(none)\",",
		    "{namespace=\"ml\",", "{namespace=\"(none)\",",
		    "{namespace=\"(none)\"," } },
	};
	enum export_prom_by by;
	struct export_prom *p;
	struct thresholds thr;
	struct tick t;
	struct tick_proc *pr;
	char err[512], *text, unit[32];
	size_t len;

	classify_defaults(&thr);
	memset(&t, 0, sizeof(t));
	CHECK_INT(export_prom_parse_by("host", &by), -1);
	CHECK_INT(export_prom_parse_by("", &by), -1);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct tick_gpu *g;

		CHECK_INT(export_prom_parse_by(cases[c].word, &by), 0);
		CHECK_INT(export_prom_open(&p, NULL, "", err, sizeof(err)), 0);
		export_prom_group_by(p, by);
		tick_reset(&t);
		t.ts_ms = T0;
		t.span_ms = 1000;
		g = fixture_gpu(&t, 0, 0);
		pr = fixture_proc(g, 100, 1, "ann", 500, -1);
		util_strlcpy(pr->id.slurm_job, "job_42",
		    sizeof(pr->id.slurm_job));
		pr = fixture_proc(g, 101, 1, "bo", 500, -1);
		util_strlcpy(pr->id.pod, "11111111-2222-3333-4444-555555555555",
		    sizeof(pr->id.pod));
		util_strlcpy(pr->id.pod_namespace, "ml",
		    sizeof(pr->id.pod_namespace));
		util_strlcpy(pr->id.pod_name, "train-0",
		    sizeof(pr->id.pod_name));
		pr = fixture_proc(g, 102, 1, "cy", 500, -1);
		util_strlcpy(pr->id.pod, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
		    sizeof(pr->id.pod));
		fixture_proc(g, 103, 1, "dee", 500, -1);
		CHECK_INT(export_prom_add_tick(p, &t, &thr, err, sizeof(err)),
		    0);
		CHECK_INT(export_prom_render(p, &text, &len), 0);
		text = realloc(text, len + 1);
		text[len] = '\0';
		for (int i = 0; i < 4; i++)
			CHECK(strstr(text, cases[c].want[i]) != NULL);
		CHECK(validate(text) > 0);
		free(text);
		/* No directory: nothing to write, nothing to remove. */
		CHECK_INT(export_prom_write(p, err, sizeof(err)), -1);
		CHECK_INT(export_prom_remove(p, err, sizeof(err)), 0);
		export_prom_close(p);
	}

	/* Twenty jobs get series, the rest are (other). */
	CHECK_INT(export_prom_open(&p, NULL, "", err, sizeof(err)), 0);
	export_prom_group_by(p, EXPORT_PROM_BY_JOB);
	for (int i = 0; i < EXPORT_PROM_TOP_USERS + 3; i++) {
		tick_reset(&t);
		t.ts_ms = T0 + i * 1000;
		t.span_ms = 1000;
		pr = fixture_proc(fixture_gpu(&t, 0, 0), (uint32_t)(100 + i), 1,
		    "ann", 500, -1);
		snprintf(unit, sizeof(unit), "job_%d", 1000 + i);
		util_strlcpy(pr->id.slurm_job, unit, sizeof(pr->id.slurm_job));
		CHECK_INT(export_prom_add_tick(p, &t, &thr, err, sizeof(err)),
		    0);
	}
	text = printed(p);
	CHECK(strstr(text, "{slurm_job=\"job_1019\",") != NULL);
	CHECK(strstr(text, "job_1020") == NULL);
	CHECK(strstr(text, "{slurm_job=\"(other)\",gpu=\"0\",uuid=\"GPU-test-0\"} "
	    "3\n") != NULL);
	free(text);
	export_prom_close(p);
	tick_free(&t);
}

int
main(void)
{
	test_validator();
	test_exposition();
	test_top_users();
	test_metrics_by();
	test_shared_index();
	test_seed();
	test_control_chars();
	test_streaks();
	test_energy_reset();
	HARNESS_DONE();
}
