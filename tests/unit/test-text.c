#include <stdlib.h>

#include "fixture.h"
#include "harness.h"
#include "report-text.h"

static struct rollup_gpu
shares(int64_t a, int64_t i, int64_t t)
{
	struct rollup_gpu r;

	memset(&r, 0, sizeof(r));
	r.ms[STATE_ACTIVE] = a;
	r.ms[STATE_IDLE_HELD] = i;
	r.ms[STATE_TRULY_IDLE] = t;
	r.n[STATE_ACTIVE] = a > 0;
	return r;
}

static void
test_bar(void)
{
	struct rollup_gpu r;
	int c[3], ok = 1;

	/* The demo's 12/42/36 of 90 and the original README's example. */
	r = shares(12, 42, 36);
	report_text_bar_cells(&r, 60, c);
	CHECK_INT(c[0], 8);
	CHECK_INT(c[1], 28);
	CHECK_INT(c[2], 24);
	r = shares(157, 451, 392);
	report_text_bar_cells(&r, 60, c);
	CHECK_INT(c[0], 9);
	CHECK_INT(c[1], 27);
	CHECK_INT(c[2], 24);
	/* Halves round to even, and the bar never overflows. */
	r = shares(1, 1, 0);
	report_text_bar_cells(&r, 11, c);
	CHECK_INT(c[0] + c[1] + c[2], 11);
	/* Always exactly the width, whatever the shares. */
	for (int w = TEXT_WIDTH_MIN; w <= TEXT_WIDTH_MAX; w += 7) {
		for (int k = 0; k < 200; k++) {
			r = shares(k * 13 % 101, k * 7 % 53, k % 3 ? k : 0);
			if (rollup_gpu_known_ms(&r) == 0)
				continue;
			report_text_bar_cells(&r, w, c);
			ok &= c[0] >= 0 && c[1] >= 0 && c[2] >= 0 &&
			    c[0] + c[1] + c[2] == w;
		}
	}
	CHECK(ok);
}

/* Renders the report of a small database into a string, with --top top
   (0: all) and ASCII or not. */
static char *
render_with(struct store *s, int64_t until, int64_t since, int width,
    size_t top, int ascii)
{
	struct report_options o;
	struct text_options to = { width, 0, ascii, 160 };
	struct report r;
	char err[512], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	memset(&o, 0, sizeof(o));
	o.until_ms = until;
	o.since_ms = since;
	o.gpu_id = -1;
	o.top = top;
	classify_defaults(&o.thr);
	if (report_build(s, &o, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	report_text_write(f, &r, &to);
	fclose(f);
	report_free(&r);
	return buf;
}

static char *
render(struct store *s, int64_t until, int64_t since, int width)
{
	return render_with(s, until, since, width, 0, 0);
}

static void
test_layout(void)
{
	struct store *s = fixture_create("text.db", 1000);
	int64_t t0 = 1795602600000LL;	/* Wednesday 10:30 UTC */
	struct tick t;
	char *out;

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 4; i++) {
		struct tick_gpu *g = fixture_gpu(&t, 0, i == 0 ? 90 : 1);

		/* An escape sequence and a newline in a user-controlled name. */
		fixture_proc(g, 31337, 7, "mallory", 4096, -1);
		util_strlcpy(g->procs[0].id.comm, "\x1b]0;pwned\x07x\ny",
		    sizeof(g->procs[0].id.comm));
		fixture_write(s, &t, t0 + i * 1000, 1000);
	}
	out = render(s, t0 + 3000, 60000, 20);
	CHECK(strstr(out, "  \xe2\x96\x88\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88"
	    "\xe2\x96\x88\xe2\x96\x92") != NULL);
	CHECK(strstr(out, "  active       \xe2\x96\x88   25.0%\n") != NULL);
	CHECK(strstr(out, "  idle-held    \xe2\x96\x92   75.0%") != NULL);
	CHECK(strstr(out, "  (4 samples)\n") != NULL);
	/* The window dated, start and end, in UTC by default. */
	CHECK(strstr(out, "Window: 2026-11-25 10:29:59 +00:00 to 2026-11-25 "
	    "10:30:03 +00:00 (UTC), 0:00:04\n") != NULL);
	/* The history starts after the minute asked for. */
	CHECK(strstr(out, "  the history starts at the window's start; "
	    "0:01:00 was asked for\n") != NULL);
	/* The model and memory of each GPU, after its shares. */
	CHECK(strstr(out, "  GPU-0     active  25.0%  idle-held  75.0%  "
	    "truly-idle   0.0%  Test GPU     80 GiB\n") != NULL);
	/* Waste: idle-held apart from free capacity. */
	CHECK(strstr(out, "  ~0.00 GPU-hours idle-held, ~0.75 GPUs "
	    "equivalently: held by processes and unused, the waste\n") !=
	    NULL);
	CHECK(strstr(out, "  ~0.00 GPU-hours truly idle, ~0.00 GPUs "
	    "equivalently: held by nobody, free capacity\n") != NULL);
	/* Two-digit hours every three hours, over their cells. */
	CHECK(strstr(out, "\n        00    03    06    09    12    15    18"
	    "    21\n") != NULL);
	/* Its own utilization was never known: "-", not 0. */
	CHECK(strstr(out, "  mallory                    0.00        0.00   "
	    "75.0%        0.00       -\n") != NULL);
	/* Wednesday, 10 h: the active share 25 % draws ':' ... */
	CHECK(strstr(out, "  Wed                       :\n") != NULL);
	/* ... and no raw control byte from the name reaches the terminal. */
	CHECK(strchr(out, '\x1b') == NULL);
	CHECK(strchr(out, '\x07') == NULL);
	/* The command (no command line recorded: the name) comes last,
	   escaped. */
	CHECK(strstr(out, "yes    \\x1B]0;pwned\\x07x\\ny\n") != NULL);
	free(out);

	/* No UTF-8: the same report in ASCII, numbers as they were. */
	out = render_with(s, t0 + 3000, 60000, 20, 0, 1);
	for (const char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80) {
			CHECK(!"a byte past ASCII");
			break;
		}
	CHECK(strstr(out, "gua -- testhost") != NULL);
	CHECK(strstr(out, "\n#1 Headline\n  #####===============\n") != NULL);
	CHECK(strstr(out, "  idle-held    =   75.0%       <- ") != NULL);
	CHECK(strstr(out, "idle GiB*h") != NULL);
	free(out);

	/* Every section has its empty form. */
	out = render(s, t0 - MS_PER_DAY, 60000, 60);
	CHECK(strstr(out, "\xc2\xa7" "1 Headline\n  (no samples in window)\n")
	    != NULL);
	CHECK(strstr(out, "\xc2\xa7" "2 Waste\n  (no samples in window)\n")
	    != NULL);
	CHECK(strstr(out, "\xc2\xa7" "3 Per-GPU\n  (no samples in window)\n")
	    != NULL);
	CHECK(strstr(out, "identities (by idle-held GPU-hours)\n  (no samples "
	    "in window)\n") != NULL);
	CHECK(strstr(out, "heatmap (UTC)\n  (no samples in window)\n") != NULL);
	CHECK(strstr(out, "sessions (longest first)\n  (no samples in "
	    "window)\n") != NULL);
	free(out);
	store_close(s);
	tick_free(&t);
}

int
main(void)
{
	test_bar();
	test_layout();
	HARNESS_DONE();
}
