/*
 * daemon / start: the collector. Not part of this build yet.
 */
#include "cmd.h"

#define DAEMON_USAGE "[--db PATH] [--interval D] [--pid-file PATH] " \
	"[--log-file PATH] [--foreground] [--append] [--nvml-library PATH]"

const struct cmd_entry cmd_daemon_entry = {
	.name = "daemon",
	.usage = DAEMON_USAGE,
	.summary = "Start the collector (not available in this build).",
	.help = "",
	.exec = cmd_not_available,
};

const struct cmd_entry cmd_start_entry = {
	.name = "start",
	.usage = DAEMON_USAGE,
	.summary = "Same as daemon.",
	.help = "",
	.exec = cmd_not_available,
};
