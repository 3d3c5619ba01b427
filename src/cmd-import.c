/*
 * import: converts a gpu-usage-audit 1.0 database. Not part of this build
 * yet.
 */
#include "cmd.h"

const struct cmd_entry cmd_import_entry = {
	.name = "import",
	.usage = "OLD.db --db NEW.db",
	.summary = "Convert a gpu-usage-audit 1.0 database (not available in "
	    "this build).",
	.help = "",
	.exec = cmd_not_available,
};
