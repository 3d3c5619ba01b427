/*
 * status and stop: the collector's PID file. Not part of this build yet.
 */
#include "cmd.h"

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.usage = "[--pid-file PATH] [--json]",
	.summary = "Show whether the collector runs (not available in this "
	    "build).",
	.help = "",
	.exec = cmd_not_available,
};

const struct cmd_entry cmd_stop_entry = {
	.name = "stop",
	.usage = "[--pid-file PATH] [--timeout D]",
	.summary = "Stop the collector (not available in this build).",
	.help = "",
	.exec = cmd_not_available,
};
