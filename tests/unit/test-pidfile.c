#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "pidfile.h"

static char dir[64];

static void
test_parse(void)
{
	static const struct {
		const char	*in;
		int		 rc;
		long		 pid;
		const char	*db;
	} cases[] = {
		{ "123\n/tmp/gua.db\n", 0, 123, "/tmp/gua.db" },
		{ "123\n/tmp/gua.db", 0, 123, "/tmp/gua.db" },
		{ "123\n", 0, 123, "" },
		{ "123", 0, 123, "" },
		{ "123\n/a b/c\nextra\n", 0, 123, "/a b/c" },
		{ "", -1, 0, "" },
		{ "\n/tmp/gua.db\n", -1, 0, "" },
		{ "0\n/x\n", -1, 0, "" },
		{ "-5\n/x\n", -1, 0, "" },
		{ "12a\n/x\n", -1, 0, "" },
		{ " 12\n/x\n", -1, 0, "" },
		{ "99999999999\n/x\n", -1, 0, "" },
	};
	char db[64];
	pid_t pid;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(pidfile_parse(cases[i].in, strlen(cases[i].in), &pid,
		    db, sizeof(db)), cases[i].rc);
		CHECK_INT(pid, cases[i].pid);
		CHECK_STR(db, cases[i].db);
	}
	/* A long path is cut to the buffer, terminated. */
	CHECK_INT(pidfile_parse("7\n/0123456789\n", 14, &pid, db, 5), 0);
	CHECK_STR(db, "/012");
}

/* Lines 3 to 5: the log, the database file's identity, its renewal. */
static void
test_parse_more(void)
{
	static const struct {
		const char	*in;
		const char	*log;
		int		 ident;
		unsigned long long dev, ino;
		long long	 renewed;
	} cases[] = {
		{ "1\n/d\n/l\n8:9\n0\n", "/l", 1, 8, 9, 0 },
		{ "1\n/d\n\n8:9\n77\n", "", 1, 8, 9, 77 },
		{ "1\n/d\n", "", 0, 0, 0, 0 },
		{ "1\n/d\n/l\n", "/l", 0, 0, 0, 0 },
		{ "1\n/d\n/l\n8\n", "/l", 0, 0, 0, 0 },
		{ "1\n/d\n/l\n:9\n", "/l", 0, 0, 0, 0 },
		{ "1\n/d\n/l\n8:x\n", "/l", 0, 0, 0, 0 },
		{ "1\n/d\n/l\n-8:9\n", "/l", 0, 0, 0, 0 },
		{ "1\n/d\n/l\n8:9\n-5\n", "/l", 1, 8, 9, 0 },
		{ "1\n/d\n/l\n99999999999999999999:9\n", "/l", 0, 0, 0, 0 },
	};
	struct pidfile_info info;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&info, 0x55, sizeof(info));
		pidfile_parse_more(cases[i].in, strlen(cases[i].in), &info);
		CHECK_STR(info.log, cases[i].log);
		CHECK_INT(info.db_ident, cases[i].ident);
		CHECK(info.db_dev == cases[i].dev && info.db_ino == cases[i].ino);
		CHECK(info.db_renewed_ms == cases[i].renewed);
	}
}

/* Inspects path from another process (a process never conflicts with its
   own locks); returns state * 1000 + (holder == getppid()). */
static int
inspect_elsewhere(const char *path)
{
	pid_t child = fork();
	int st;

	if (child == 0) {
		struct pidfile_info info;
		char err[256];

		if (pidfile_inspect(path, &info, err, sizeof(err)) != 0)
			_exit(99);
		_exit(info.state * 10 + (info.holder == getppid()));
	}
	waitpid(child, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_lock(void)
{
	struct pidfile pf, other;
	struct pidfile_info info;
	char path[128], link[128], err[256];
	pid_t holder, child;
	int st, fd;

	snprintf(path, sizeof(path), "%s/gua.pid", dir);
	CHECK_INT(pidfile_inspect(path, &info, err, sizeof(err)), 0);
	CHECK_INT(info.state, PIDFILE_ABSENT);
	CHECK_INT(pidfile_acquire(&pf, path, &holder, err, sizeof(err)), 0);
	{
		struct pidfile_data pd = { getpid(), "/tmp/some.db",
			"/tmp/some.log", 2049, 1234567, 0 };

		CHECK_INT(pidfile_write(&pf, &pd, err, sizeof(err)), 0);
	}
	{
		struct stat sb;

		CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0640);
	}
	CHECK_INT(inspect_elsewhere(path), PIDFILE_HELD * 10 + 1);
	/* A second collector is refused and told who holds the file. */
	child = fork();
	if (child == 0) {
		int rc = pidfile_acquire(&other, path, &holder, err,
		    sizeof(err));

		_exit(rc == -1 && holder == getppid() &&
		    strstr(err, "already running") != NULL ? 0 : 1);
	}
	waitpid(child, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_INT(pidfile_inspect(path, &info, err, sizeof(err)), 0);
	CHECK_INT(info.pid, getpid());
	CHECK_STR(info.db, "/tmp/some.db");
	CHECK_STR(info.log, "/tmp/some.log");
	CHECK_INT(info.db_ident, 1);
	CHECK(info.db_dev == 2049 && info.db_ino == 1234567);
	CHECK(info.db_renewed_ms == 0);
	pidfile_release(&pf);
	CHECK(access(path, F_OK) != 0);

	/* A stale file naming a live process (this one): not held. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	CHECK(fd >= 0 && write(fd, "1\n/x.db\n", 8) == 8);
	close(fd);
	CHECK_INT(inspect_elsewhere(path), PIDFILE_STALE * 10);
	/* ... and taken over by the next collector, emptied at once. */
	CHECK_INT(pidfile_acquire(&pf, path, &holder, err, sizeof(err)), 0);
	CHECK_INT(pidfile_inspect(path, &info, err, sizeof(err)), 0);
	CHECK_INT(info.pid, 0);
	CHECK_STR(info.db, "");
	{
		struct pidfile_data pd = { 4242, "/y.db", NULL, 1, 2,
			1790000000000LL };

		CHECK_INT(pidfile_write(&pf, &pd, err, sizeof(err)), 0);
	}
	CHECK_INT(pidfile_inspect(path, &info, err, sizeof(err)), 0);
	CHECK_INT(info.pid, 4242);
	CHECK_STR(info.db, "/y.db");
	CHECK_STR(info.log, "");
	CHECK(info.db_ident && info.db_dev == 1 && info.db_ino == 2);
	CHECK(info.db_renewed_ms == 1790000000000LL);
	pidfile_release(&pf);

	/* Never through a symbolic link, neither to write nor to read. */
	snprintf(link, sizeof(link), "%s/link.pid", dir);
	CHECK_INT(symlink(path, link), 0);
	CHECK_INT(pidfile_acquire(&pf, link, &holder, err, sizeof(err)), -1);
	CHECK(strstr(err, "symbolic link") != NULL);
	CHECK(access(path, F_OK) != 0);
	CHECK_INT(pidfile_inspect(link, &info, err, sizeof(err)), -1);
	unlink(link);
	/* A directory is not a PID file. */
	CHECK_INT(pidfile_acquire(&pf, dir, &holder, err, sizeof(err)), -1);
	/* Another user's file is not taken over (only testable as root). */
	if (geteuid() == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		CHECK(fd >= 0 && fchown(fd, 65534, 65534) == 0);
		close(fd);
		CHECK_INT(pidfile_acquire(&pf, path, &holder, err,
		    sizeof(err)), -1);
		CHECK(strstr(err, "owned by another user") != NULL);
		unlink(path);
	}
}

int
main(void)
{
	umask(022);	/* modes below are checked exactly */
	snprintf(dir, sizeof(dir), "/tmp/gua-test-pidfile-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	test_parse();
	test_parse_more();
	test_lock();
	rmdir(dir);
	HARNESS_DONE();
}
