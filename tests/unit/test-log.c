#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"

static char *
slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (f != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

int
main(void)
{
	char dir[] = "/tmp/gua-test-log-XXXXXX", path[128], moved[128];
	char link[128], err[256], want[64];
	struct stat st;
	const char *s;
	int created;

	umask(022);	/* modes below are checked exactly */
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/gua.log", dir);
	snprintf(moved, sizeof(moved), "%s/gua.log.1", dir);
	snprintf(link, sizeof(link), "%s/link.log", dir);
	CHECK_INT(log_open(path, &created, err, sizeof(err)), 0);
	CHECK_INT(created, 1);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
	log_info("started, %d GPUs", 2);
	log_warn("a name with\na newline and \033[2J");
	s = slurp(path);
	snprintf(want, sizeof(want), " gua[%ld]: started, 2 GPUs\n",
	    (long)getpid());
	CHECK(strstr(s, want) != NULL);
	CHECK(strstr(s, "warning: a name with\\na newline and \\x1B[2J\n") !=
	    NULL);
	CHECK(s[0] == '2' && s[4] == '-' && s[10] == 'T');
	/* Rotated away: the next lines go to a fresh file at the path. */
	CHECK_INT(rename(path, moved), 0);
	CHECK_INT(log_reopen(err, sizeof(err)), 0);
	log_info("after rotation");
	CHECK(strstr(slurp(path), "after rotation") != NULL);
	CHECK(strstr(slurp(moved), "after rotation") == NULL);
	/* Appends to an existing log, and refuses a link. */
	log_close();
	CHECK_INT(log_open(path, &created, err, sizeof(err)), 0);
	CHECK_INT(created, 0);
	log_info("appended");
	s = slurp(path);
	CHECK(strstr(s, "after rotation") != NULL && strstr(s, "appended"));
	log_close();
	CHECK_INT(symlink(path, link), 0);
	CHECK_INT(log_open(link, NULL, err, sizeof(err)), -1);
	CHECK(strstr(err, "symbolic link") != NULL);
	unlink(link);
	unlink(path);
	unlink(moved);
	rmdir(dir);
	HARNESS_DONE();
}
