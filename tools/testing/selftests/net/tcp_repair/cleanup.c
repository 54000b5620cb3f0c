// SPDX-License-Identifier: GPL-2.0
/*
 * The suite's own clean-up: however a test ends (it passes, its setup
 * fails, or the harness kills its process group on timeout, in the middle
 * of anything), it leaves no network namespace, veth or process behind.
 *
 * A victim process plays a test program: in its own process group, as
 * under the harness, it builds what the programs build (the topology they
 * share among their tests, tr_env_share(): lib/topo.c's namespaces and
 * veths) and what their tests build (lib/env.c's fixture: that topology
 * reset, a connection, a trace instance), then ends one of those ways.
 * The test, a child subreaper in a network namespace of its own, watches
 * the victim's file descriptors for the namespaces it holds, and once the
 * victim is gone checks that no process, file descriptor or mount refers
 * to any of them any more (the kernel then frees them and the veths
 * inside), that none of its processes survived, and that no link appeared
 * next to the test.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "lib/tcp_repair.h"

#define TEST_TIMEOUT	300
#define MAX_NS		64
#define GONE_TIMEOUT	5000	/* processes killed by PDEATHSIG are reaped */

enum fate {
	FATE_PASS,		/* setup, test body, teardown, exit */
	FATE_SETUP_FAILS,	/* out of file descriptors: setup unwinds */
	FATE_KILLED,		/* SIGKILL to the group once set up */
	FATE_LOOP,		/* setup and teardown until killed */
	FATE_LEAK,		/* what the checks must catch, on purpose */
};

FIXTURE(cleanup) {
	ino_t home;			/* the test's own namespace */
	char links[256];		/* its links, " lo sit0 ..." */
	ino_t ns[MAX_NS];		/* every one the victim held */
	int nr_ns;
	pid_t victim;
};

FIXTURE_VARIANT(cleanup) {
	int family;
};

FIXTURE_VARIANT_ADD(cleanup, ipv4) {
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(cleanup, ipv6) {
	.family = AF_INET6,
};

static ino_t ns_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

/* The links of the current namespace, each name between spaces */
static int links_list(char *buf, size_t len)
{
	struct if_nameindex *ifs = if_nameindex();
	size_t off = 1;
	int i;

	if (!ifs)
		return -errno;
	snprintf(buf, len, " ");
	for (i = 0; ifs[i].if_index && off < len; i++)
		off += snprintf(buf + off, len - off, "%s ", ifs[i].if_name);
	if_freenameindex(ifs);
	return off < len ? 0 : -ENOSPC;
}

FIXTURE_SETUP(cleanup)
{
	self->nr_ns = 0;
	self->victim = -1;
	if (unshare(CLONE_NEWNET))
		SKIP(return, "network namespaces need CAP_SYS_ADMIN");
	self->home = ns_ino("/proc/self/ns/net");
	ASSERT_NE(0, self->home);
	/* Orphans of the victim come to us, to be seen and reaped */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	/* lo, and the tunnels' fallback devices of some configs */
	ASSERT_EQ(0, links_list(self->links, sizeof(self->links)));
}

FIXTURE_TEARDOWN(cleanup)
{
	if (self->victim > 0)
		kill(-self->victim, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

/* The victim's end of the pipe to the test, -1 in the test itself */
static int report_fd = -1;

/*
 * unshare() for the whole program, the library's calls included: the
 * system call, then, in a victim, the new network namespace reported to
 * the test ('N' and its inode). A setup that fails a few microseconds
 * later would otherwise be gone before the test could see what it made.
 */
int unshare(int flags)
{
	char msg[1 + sizeof(uint64_t)] = { 'N' };
	uint64_t ino;
	int ret;

	ret = syscall(SYS_unshare, flags);
	if (ret || !(flags & CLONE_NEWNET) || report_fd < 0)
		return ret;
	ino = ns_ino("/proc/self/ns/net");
	memcpy(msg + 1, &ino, sizeof(ino));
	if (write(report_fd, msg, sizeof(msg)) != sizeof(msg))
		_exit(3);
	return 0;
}

/*
 * Few enough file descriptors that the setup runs out of them half-way,
 * its namespaces made: it fails with EMFILE and undoes what it did.
 */
static void fd_limit(void)
{
	struct rlimit rl;
	struct dirent *de;
	int open = 0;
	DIR *dir;

	dir = opendir("/proc/self/fd");
	if (!dir)
		_exit(4);
	while ((de = readdir(dir)))
		open += de->d_name[0] != '.';
	closedir(dir);
	/* the directory's own fd is closed again: two namespaces fit */
	rl.rlim_cur = open + 2;
	rl.rlim_max = open + 2;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		_exit(4);
}

/*
 * A veth next to the test, and a process out of the victim's group that
 * outlives it, holding the victim's namespaces through inherited fds.
 */
static void leak(void)
{
	int nl = tr_nl_open(-1);
	pid_t pid;

	if (nl < 0 || tr_nl_veth(nl, "leak0", NULL, "leak1", NULL, -1))
		_exit(4);
	close(nl);
	pid = fork();
	if (pid < 0)
		_exit(4);
	if (!pid) {
		setsid();
		sleep(TEST_TIMEOUT);
		_exit(0);
	}
}

/* The victim reports on @out: 'R' once set up, 'T' if tracing, 'E' on error */
static void victim(int family, enum fate fate, int out)
{
	struct tr_env k;
	int err;

	setpgid(0, 0);
	report_fd = out;
	if (fate == FATE_SETUP_FAILS)
		fd_limit();
	/* As a program does before its tests (if it fails, they do without) */
	tr_env_share(family, 0);
	do {
		err = tr_env_init(&k, family, TR_ENV_PAIR | TR_ENV_TRACE);
		if (err) {
			if (write(out, "E", 1) < 0)
				_exit(3);
			_exit(fate == FATE_SETUP_FAILS && err == -EMFILE ? 0 : 2);
		}
		if (fate != FATE_LOOP) {
			if (write(out, k.tracing ? "TR" : "R", 1 + k.tracing) < 0)
				_exit(3);
		}
		if (fate == FATE_KILLED)
			for (;;)
				pause();
		if (fate == FATE_LEAK)
			leak();
		tr_env_fini(&k);
	} while (fate == FATE_LOOP);
	_exit(0);
}

static bool ns_known(struct _test_data_cleanup *self, ino_t ino)
{
	int i;

	for (i = 0; i < self->nr_ns; i++)
		if (self->ns[i] == ino)
			return true;
	return false;
}

/* Record the network namespaces @pid holds through file descriptors */
static void ns_collect(struct _test_data_cleanup *self, pid_t pid)
{
	char path[300], link[64];
	struct dirent *de;
	unsigned long ino;
	ssize_t n;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "net:[%lu]", &ino) != 1 || ino == self->home)
			continue;
		if (!ns_known(self, ino) && self->nr_ns < MAX_NS)
			self->ns[self->nr_ns++] = ino;
	}
	closedir(dir);
}

/*
 * Start the victim and watch it until @until_ms have passed since it made
 * its first namespace (kill time), it reported @stop_at, or it exited
 * (then reaped, and its exit status checked). Returns what it wrote last;
 * its pid in @pid.
 */
static char victim_watch(struct __test_metadata *_metadata,
			 struct _test_data_cleanup *self, int family,
			 enum fate fate, int until_ms, char stop_at,
			 bool *tracing, pid_t *pid)
{
	/* however long the victim takes to start: the clock starts then */
	int64_t deadline = tr_now_ms() + TR_SETUP_TIMEOUT + until_ms;
	int pipefd[2], status, seen = 0;
	char c, last = 0;
	struct pollfd pfd;

	*tracing = false;
	*pid = -1;
	if (pipe2(pipefd, O_CLOEXEC))
		return 0;
	fflush(NULL);
	self->victim = fork();
	if (self->victim < 0)
		return 0;
	if (!self->victim) {
		close(pipefd[0]);
		victim(family, fate, pipefd[1]);
		_exit(5);	/* not reached: the victim exits */
	}
	*pid = self->victim;
	close(pipefd[1]);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	while (tr_now_ms() < deadline) {
		ns_collect(self, self->victim);
		if (poll(&pfd, 1, 1) <= 0)
			continue;
		if (read(pipefd[0], &c, 1) != 1) {
			/* exited */
			ASSERT_EQ(self->victim, waitpid(self->victim, &status, 0));
			self->victim = -1;
			EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
				TH_LOG("victim ended with status 0x%x", status);
			break;
		}
		if (c == 'N') {
			uint64_t ino;

			/* written at once, with the 'N' */
			if (read(pipefd[0], &ino, sizeof(ino)) == sizeof(ino) &&
			    !ns_known(self, ino) && self->nr_ns < MAX_NS)
				self->ns[self->nr_ns++] = ino;
			if (!seen++)
				deadline = tr_now_ms() + until_ms;
			continue;
		}
		if (c == 'T')
			*tracing = true;
		else
			last = c;
		if (stop_at && last == stop_at)
			break;
	}
	close(pipefd[0]);
	return last;
}

/* Kill the victim's group as the harness does on timeout */
static void victim_kill(struct _test_data_cleanup *self)
{
	if (self->victim <= 0)
		return;
	kill(-self->victim, SIGKILL);
	waitpid(self->victim, NULL, 0);
	self->victim = -1;
}

/* A child of ours, from /proc (CONFIG_PROC_CHILDREN may be off); or 0 */
static pid_t child_find(void)
{
	char path[300], buf[512], *p;
	struct dirent *de;
	pid_t found = 0;
	int fd, ppid;
	DIR *proc;
	ssize_t n;

	proc = opendir("/proc");
	if (!proc)
		return 0;
	while (!found && (de = readdir(proc))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* "pid (comm) state ppid ...", comm may hold anything */
		p = strrchr(buf, ')');
		if (p && sscanf(p + 1, " %*c %d", &ppid) == 1 &&
		    ppid == getpid())
			found = strtol(de->d_name, NULL, 10);
	}
	closedir(proc);
	return found;
}

/* Reap orphans until none is left; false if some outlived @timeout_ms */
static bool children_gone(struct __test_metadata *_metadata, int timeout_ms)
{
	int64_t deadline = tr_now_ms() + timeout_ms;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, NULL, WNOHANG);
		if (pid < 0 && errno == ECHILD)
			return true;
		if (pid > 0)
			continue;
		if (tr_now_ms() > deadline)
			break;
		tr_msleep(10);
	}
	TH_LOG("processes left behind, pid %d among them", child_find());
	return false;
}

static bool link_is_ns(const char *path, ino_t ino)
{
	char link[64], want[64];
	ssize_t n;

	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	snprintf(want, sizeof(want), "net:[%lu]", (unsigned long)ino);
	return !strcmp(link, want);
}

/* Who still refers to namespace @ino: a process, an fd or a mount */
static bool ns_held(ino_t ino, char *who, size_t len)
{
	char path[600], line[1024], want[64];
	struct dirent *de, *fe;
	bool held = false;
	DIR *proc, *fds;
	FILE *f;

	proc = opendir("/proc");
	if (!proc)
		return false;
	while (!held && (de = readdir(proc))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		if (ns_ino(path) == ino) {
			snprintf(who, len, "process %s lives in it", de->d_name);
			held = true;
			break;
		}
		snprintf(path, sizeof(path), "/proc/%s/fd", de->d_name);
		fds = opendir(path);
		while (fds && (fe = readdir(fds))) {
			snprintf(path, sizeof(path), "/proc/%s/fd/%s",
				 de->d_name, fe->d_name);
			if (link_is_ns(path, ino)) {
				snprintf(who, len, "process %s has it open",
					 de->d_name);
				held = true;
				break;
			}
		}
		if (fds)
			closedir(fds);
	}
	closedir(proc);
	if (held)
		return true;

	/* ip netns add, or any bind mount of it, shows here as nsfs */
	snprintf(want, sizeof(want), " net:[%lu] ", (unsigned long)ino);
	f = fopen("/proc/self/mountinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (strstr(line, want)) {
			snprintf(who, len, "mounted: %s", line);
			held = true;
			break;
		}
	}
	if (f)
		fclose(f);
	return held;
}

static void expect_clean(struct __test_metadata *_metadata,
			 struct _test_data_cleanup *self)
{
	char who[1100], links[256];
	int i;

	EXPECT_TRUE(children_gone(_metadata, GONE_TIMEOUT));
	for (i = 0; i < self->nr_ns; i++) {
		EXPECT_FALSE(ns_held(self->ns[i], who, sizeof(who)))
			TH_LOG("namespace net:[%lu] left behind: %s",
			       (unsigned long)self->ns[i], who);
	}
	ASSERT_EQ(0, links_list(links, sizeof(links)));
	EXPECT_STREQ(self->links, links)
		TH_LOG("links next to the test changed");
}

/* Whether the test sees the tracefs the victims use */
static bool tracefs_visible(void)
{
	char path[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tr_tracefs_roots); i++) {
		snprintf(path, sizeof(path), "%s/instances",
			 tr_tracefs_roots[i]);
		if (!access(path, F_OK))
			return true;
	}
	return false;
}

/* The trace instance of process @pid (lib/trace.c names it) */
static bool instance_exists(pid_t pid)
{
	char path[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tr_tracefs_roots); i++) {
		snprintf(path, sizeof(path), "%s/instances/%s%d",
			 tr_tracefs_roots[i], TR_TRACE_INSTANCE, pid);
		if (!access(path, F_OK))
			return true;
	}
	return false;
}

TEST_F_TIMEOUT(cleanup, after_pass, TEST_TIMEOUT)
{
	bool tracing;
	pid_t pid;

	ASSERT_EQ('R', victim_watch(_metadata, self, variant->family,
				    FATE_PASS, TEST_TIMEOUT * 500, 0, &tracing,
				    &pid));
	EXPECT_LE(3, self->nr_ns) TH_LOG("the victim's namespaces not seen");
	expect_clean(_metadata, self);
	if (tracing && tracefs_visible())
		EXPECT_FALSE(instance_exists(pid));
}

TEST_F_TIMEOUT(cleanup, after_setup_failure, TEST_TIMEOUT)
{
	bool tracing;
	pid_t pid;

	/*
	 * A setup that fails half-way, namespaces made: out of file
	 * descriptors. The victim exits 0 only if it failed with -EMFILE.
	 */
	EXPECT_EQ('E', victim_watch(_metadata, self, variant->family,
				    FATE_SETUP_FAILS, TEST_TIMEOUT * 500, 0,
				    &tracing, &pid));
	EXPECT_LE(1, self->nr_ns) TH_LOG("the victim's namespaces not seen");
	expect_clean(_metadata, self);
}

TEST_F_TIMEOUT(cleanup, killed_after_setup, TEST_TIMEOUT)
{
	struct tr_trace tr;
	bool tracing;
	pid_t pid;

	ASSERT_EQ('R', victim_watch(_metadata, self, variant->family,
				    FATE_KILLED, TEST_TIMEOUT * 500, 'R',
				    &tracing, &pid));
	victim_kill(self);
	EXPECT_LE(3, self->nr_ns) TH_LOG("the victim's namespaces not seen");
	expect_clean(_metadata, self);

	/* No teardown ran: the next run's tracing removes the instance */
	if (!tracing || !tracefs_visible())
		return;
	EXPECT_TRUE(instance_exists(pid));
	ASSERT_EQ(0, tr_trace_start(&tr));
	tr_trace_stop(&tr);
	EXPECT_FALSE(instance_exists(pid))
		TH_LOG("stale trace instance of a killed run not removed");
}

TEST_F_TIMEOUT(cleanup, killed_during_setup, TEST_TIMEOUT)
{
	static const int quarters[] = { 1, 2, 3, 5 };
	int64_t start, cycle;
	unsigned int i;
	bool tracing;
	pid_t pid;

	/*
	 * How long setup and teardown take here, then kills of victims doing
	 * nothing else a quarter, half and three quarters in, and in their
	 * second round
	 */
	start = tr_now_ms();
	ASSERT_EQ('R', victim_watch(_metadata, self, variant->family,
				    FATE_PASS, TEST_TIMEOUT * 500, 0, &tracing,
				    &pid));
	cycle = tr_now_ms() - start;
	expect_clean(_metadata, self);

	for (i = 0; i < ARRAY_SIZE(quarters); i++) {
		self->nr_ns = 0;
		victim_watch(_metadata, self, variant->family, FATE_LOOP,
			     cycle * quarters[i] / 4, 0, &tracing, &pid);
		ASSERT_LT(0, self->victim) TH_LOG("the victim ended by itself");
		victim_kill(self);
		EXPECT_LE(1, self->nr_ns) TH_LOG("no namespace seen");
		expect_clean(_metadata, self);
	}
}

/* The checks are not blind: a leaking victim is caught on every count */
TEST_F_TIMEOUT(cleanup, leaks_are_seen, TEST_TIMEOUT)
{
	bool tracing, held = false;
	int i, nl, status;
	pid_t pid, leaked;
	char who[1100];

	ASSERT_EQ('R', victim_watch(_metadata, self, variant->family,
				    FATE_LEAK, TEST_TIMEOUT * 500, 'R',
				    &tracing, &pid));
	/* The leaked process keeps the pipe open: no EOF to wait for */
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	self->victim = -1;
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	EXPECT_LE(3, self->nr_ns);

	EXPECT_FALSE(children_gone(_metadata, 200));
	for (i = 0; i < self->nr_ns; i++)
		held |= ns_held(self->ns[i], who, sizeof(who));
	EXPECT_TRUE(held) TH_LOG("namespaces held by a leaked fd not seen");
	EXPECT_NE(0, if_nametoindex("leak0"));

	/* Clean up after the victim, then nothing is left */
	leaked = child_find();
	ASSERT_LT(0, leaked);
	kill(leaked, SIGKILL);
	waitpid(leaked, NULL, 0);
	nl = tr_nl_open(-1);
	ASSERT_LE(0, nl);
	EXPECT_EQ(0, tr_nl_link_del(nl, "leak0"));
	close(nl);
	expect_clean(_metadata, self);
}

TEST_HARNESS_MAIN
