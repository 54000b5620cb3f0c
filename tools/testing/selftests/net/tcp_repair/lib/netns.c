// SPDX-License-Identifier: GPL-2.0
/*
 * Anonymous network namespaces, and code or programs run in them.
 *
 * Namespaces are never named: the test keeps their file descriptors, so
 * they (and the veths inside) are freed with the last reference, even when
 * the harness kills the test. A child started in one dies with its parent.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tcp_repair.h"

static int ns_current(void)
{
	return open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
}

int tr_ns_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fd = -errno;
		tr_log("open(%s): %s", path, strerror(errno));
	}
	return fd;
}

/* Run @fn in network namespace @ns (-1: where we are) and come back. */
int tr_ns_run(int ns, int (*fn)(void *), void *arg)
{
	int home, ret, err;

	if (ns < 0)
		return fn(arg);
	home = ns_current();
	if (home < 0) {
		err = -errno;
		tr_log("open(/proc/self/ns/net): %s", strerror(errno));
		return err;
	}
	if (setns(ns, CLONE_NEWNET)) {
		err = -errno;
		tr_log("setns(): %s", strerror(errno));
		close(home);
		return err;
	}
	ret = fn(arg);
	if (setns(home, CLONE_NEWNET)) {
		/* Nothing sensible can follow in the wrong namespace. */
		tr_log("setns() back home: %s", strerror(errno));
		abort();
	}
	close(home);
	return ret;
}

struct socket_args {
	int domain, type, protocol;
};

static int socket_fn(void *arg)
{
	struct socket_args *a = arg;
	int fd;

	fd = socket(a->domain, a->type, a->protocol);
	if (fd < 0) {
		fd = -errno;
		tr_log("socket(%d, %d, %d): %s", a->domain, a->type,
		       a->protocol, strerror(errno));
	}
	return fd;
}

int tr_ns_socket(int ns, int domain, int type, int protocol)
{
	struct socket_args a = { domain, type, protocol };

	return tr_ns_run(ns, socket_fn, &a);
}

/* ip link set dev lo up, in the namespace we are in */
static int lo_up(void)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr))
		err = -errno;
	close(fd);
	if (err)
		tr_log("bringing lo up: %s", strerror(-err));
	return err;
}

int tr_ns_unshare(void)
{
	if (unshare(CLONE_NEWNET)) {
		int err = -errno;

		tr_log("unshare(CLONE_NEWNET): %s", strerror(errno));
		return err;
	}
	return lo_up();
}

/* A new anonymous network namespace with lo up; the caller stays home. */
int tr_ns_new(void)
{
	int home, ns, err;

	home = ns_current();
	if (home < 0)
		return -errno;
	err = tr_ns_unshare();
	ns = err ? -1 : ns_current();
	if (!err && ns < 0)
		err = -errno;
	if (setns(home, CLONE_NEWNET)) {
		tr_log("setns() back home: %s", strerror(errno));
		abort();
	}
	close(home);
	return err ?: ns;
}

/*
 * Run @argv (searched in PATH) in @ns, stdout and stderr to @out and @err
 * (-1: inherited). The child dies with its parent. Returns its pid, or
 * -errno; a program that cannot be run exits with 127.
 */
pid_t tr_ns_spawn(int ns, char *const argv[], int out, int err)
{
	pid_t parent = getpid(), pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	if (ns >= 0 && setns(ns, CLONE_NEWNET))
		_exit(125);
	if ((out >= 0 && dup2(out, STDOUT_FILENO) < 0) ||
	    (err >= 0 && dup2(err, STDERR_FILENO) < 0))
		_exit(124);
	execvp(argv[0], argv);
	_exit(127);
}

void tr_kill_all(pid_t *pid, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (pid[i] <= 0)
			continue;
		kill(pid[i], SIGKILL);
		waitpid(pid[i], NULL, 0);
		pid[i] = -1;
	}
}
