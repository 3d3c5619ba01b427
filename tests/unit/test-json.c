#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "json.h"

static char *
string_of(const char *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	json_write_string(f, in);
	fclose(f);
	return buf;
}

/* Table-driven, after curl's escaper that once lost a backslash. */
static const struct {
	const char	*in;
	const char	*out;
} strings[] = {
	{ "plain", "\"plain\"" },
	{ "", "\"\"" },
	{ "q\"uote", "\"q\\\"uote\"" },
	{ "back\\slash", "\"back\\\\slash\"" },
	{ "nl\ncr\rtab\t", "\"nl\\ncr\\rtab\\t\"" },
	{ "\x06", "\"\\u0006\"" },
	{ "\x1b[31m", "\"\\u001b[31m\"" },
	{ "\x7f", "\"\\u007f\"" },
	{ "bs\bff\f", "\"bs\\bff\\f\"" },
	{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
	{ "bad\xff\xfe", "\"bad\\ufffd\\ufffd\"" },
	{ "\xe2\x80\xa8", "\"\\u2028\"" },
	{ "</script>", "\"</script>\"" },
};

int
main(void)
{
	char *buf = NULL, *s;
	size_t len = 0;
	struct json j;
	FILE *f;

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		s = string_of(strings[i].in);
		CHECK_STR(s, strings[i].out);
		free(s);
	}

	f = open_memstream(&buf, &len);
	json_init(&j, f, 0);
	json_object_begin(&j, NULL);
	json_int(&j, "schema_version", 1);
	json_string(&j, "host", "a\"b");
	json_string(&j, "missing", NULL);
	json_double(&j, "ratio", 0.123456, 4);
	json_double(&j, "nan", NAN, 2);
	json_double(&j, "whole", 3.0, 0);
	json_bool(&j, "alive", 1);
	json_array_begin(&j, "list");
	json_int(&j, NULL, 1);
	json_int(&j, NULL, -2);
	json_array_end(&j);
	json_array_begin(&j, "empty");
	json_array_end(&j);
	json_object_begin(&j, "o");
	json_null(&j, "n");
	json_object_end(&j);
	json_object_end(&j);
	CHECK_INT(json_finish(&j), 0);
	fclose(f);
	CHECK_STR(buf, "{\"schema_version\":1,\"host\":\"a\\\"b\",\"missing\":null,"
	    "\"ratio\":0.1235,\"nan\":null,\"whole\":3,\"alive\":true,"
	    "\"list\":[1,-2],\"empty\":[],\"o\":{\"n\":null}}\n");
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	json_init(&j, f, 2);
	json_object_begin(&j, NULL);
	json_array_begin(&j, "a");
	json_int(&j, NULL, 1);
	json_array_end(&j);
	json_array_begin(&j, "e");
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
	fclose(f);
	CHECK_STR(buf, "{\n  \"a\": [\n    1\n  ],\n  \"e\": []\n}\n");
	free(buf);
	HARNESS_DONE();
}
