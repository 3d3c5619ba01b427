/*
 * doctor: the read-only health check. Not part of this build yet.
 */
#include "cmd.h"

const struct cmd_entry cmd_doctor_entry = {
	.name = "doctor",
	.usage = "[--db PATH] [--pid-file PATH] [--json]",
	.summary = "Check whether a collector could run here (not available "
	    "in this build).",
	.help = "",
	.exec = cmd_not_available,
};
