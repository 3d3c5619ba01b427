/*
 * The report as one JSON object (docs/json-schema.md): snake_case keys with
 * units in their names, numbers as numbers, null for what is not known.
 */
#ifndef GUA_REPORT_JSON_H
#define GUA_REPORT_JSON_H

#include <stdio.h>

#include "report.h"

/* Bumped when a key changes meaning or goes away; new keys keep it. */
#define REPORT_JSON_SCHEMA_VERSION	1

/* Writes the whole report; returns 0, or -1 when the stream failed. */
int	report_json_write(FILE *, const struct report *);

#endif
