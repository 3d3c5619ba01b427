/*
 * The database reader given a damaged gua database: the input replaces a
 * database file, which is then opened and reported on. Reading must fail
 * cleanly or succeed, never crash, never write the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report-text.h"
#include "report.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[256];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_options o;
	struct report r;
	struct store *s;
	struct text_options to = { 60, 0, 0, 0 };
	char err[512];
	FILE *f;

	if (path[0] == '\0') {
		char dir[] = "/tmp/gua-fuzz-XXXXXX";

		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/fuzz.db", dir);
	}
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	if (store_open_read(&s, path, err, sizeof(err)) == 0) {
		memset(&o, 0, sizeof(o));
		o.until_ms = INT64_C(4102444800000);	/* 2100 */
		o.since_ms = INT64_C(36500) * 86400000;
		o.gpu_id = -1;
		classify_defaults(&o.thr);
		for (int raw = 0; raw < 2; raw++) {
			o.force_raw = raw;
			if (report_build(s, &o, &r, err, sizeof(err)) == 0) {
				FILE *null = fopen("/dev/null", "w");

				report_text_write(null, &r, &to);
				fclose(null);
				report_free(&r);
			}
		}
		store_close(s);
	}
	unlink(path);
	return 0;
}
