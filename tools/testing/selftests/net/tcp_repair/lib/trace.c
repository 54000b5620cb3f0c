// SPDX-License-Identifier: GPL-2.0
/*
 * Count skb:kfree_skb events with reason SOCKET_REPAIR in a private ftrace
 * instance, named after our pid so that one left behind by a killed run can
 * be recognised and removed by the next one.
 *
 * When tracefs is not mounted it is mounted in a private mount namespace,
 * which disappears with the test.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcp_repair.h"

#define TRACEFS		"/sys/kernel/tracing"
#define TRACEFS_DEBUG	"/sys/kernel/debug/tracing"
#define INSTANCE	TR_TRACE_INSTANCE
#define REASON		"SOCKET_REPAIR"
#define EVENT		"events/skb/kfree_skb"

const char *const tr_tracefs_roots[2] = { TRACEFS, TRACEFS_DEBUG };

static bool has_instances(const char *root)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/instances", root);
	return !access(path, F_OK);
}

static const char *tracefs_root(void)
{
	if (has_instances(TRACEFS))
		return TRACEFS;
	if (has_instances(TRACEFS_DEBUG))
		return TRACEFS_DEBUG;

	if (unshare(CLONE_NEWNS)) {
		tr_log("unshare(CLONE_NEWNS): %s", strerror(errno));
		return NULL;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		tr_log("making mounts private: %s", strerror(errno));
		return NULL;
	}
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL)) {
		tr_log("mounting tracefs on %s: %s", TRACEFS, strerror(errno));
		return NULL;
	}
	return has_instances(TRACEFS) ? TRACEFS : NULL;
}

static int write_str(const char *dir, const char *file, const char *str)
{
	char path[256];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		tr_log("open(%s): %s", path, strerror(errno));
		return err;
	}
	n = write(fd, str, strlen(str));
	if (n != (ssize_t)strlen(str)) {
		err = n < 0 ? -errno : -EIO;
		tr_log("writing \"%s\" to %s: %s", str, path,
		       n < 0 ? strerror(errno) : "short write");
	}
	close(fd);
	return err;
}

/* The whole of a (small or large) tracefs file, NUL-terminated */
static char *read_all(const char *path, size_t *lenp)
{
	size_t len = 0, size = 65536;
	char *buf, *nbuf;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(size);
	while (buf) {
		if (len + 1 >= size) {
			size *= 2;
			nbuf = realloc(buf, size);
			if (!nbuf) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			buf[len] = '\0';
			break;
		}
		len += n;
	}
	close(fd);
	if (buf && lenp)
		*lenp = len;
	return buf;
}

/* Instances of runs that were killed before their teardown */
static void remove_stale(const char *root)
{
	char path[512];
	struct dirent *de;
	long pid;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/instances", root);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, INSTANCE, strlen(INSTANCE)))
			continue;
		pid = strtol(de->d_name + strlen(INSTANCE), NULL, 10);
		if (pid <= 0 ||
		    (pid != getpid() && (!kill(pid, 0) || errno != ESRCH)))
			continue;
		snprintf(path, sizeof(path), "%s/instances/%s", root,
			 de->d_name);
		if (rmdir(path))
			tr_log("removing stale %s: %s", path, strerror(errno));
	}
	closedir(dir);
}

/*
 * The numeric value of the drop reason, from the event's print format:
 * __print_symbolic(REC->reason, ..., { 42, "SOCKET_REPAIR" }, ...)
 */
static int find_reason(const char *dir)
{
	char path[256], *fmt, *p;
	int val = -1;

	snprintf(path, sizeof(path), "%s/%s/format", dir, EVENT);
	fmt = read_all(path, NULL);
	if (!fmt)
		return -1;
	p = strstr(fmt, "\"" REASON "\"");
	if (p) {
		while (p > fmt && *p != '{')
			p--;
		if (*p == '{')
			val = strtol(p + 1, NULL, 0);
	}
	free(fmt);
	return val;
}

int tr_trace_start(struct tr_trace *tr)
{
	const char *root;
	char filter[256];
	int err;

	tr->dir[0] = '\0';
	tr->reason = -1;
	root = tracefs_root();
	if (!root)
		return -ENOENT;
	remove_stale(root);

	snprintf(tr->dir, sizeof(tr->dir), "%s/instances/%s%d", root,
		 INSTANCE, getpid());
	if (mkdir(tr->dir, 0700)) {
		err = -errno;
		tr_log("mkdir(%s): %s", tr->dir, strerror(errno));
		tr->dir[0] = '\0';
		return err;
	}

	snprintf(filter, sizeof(filter), "%s/%s", tr->dir, EVENT);
	if (access(filter, F_OK)) {
		tr_log("no skb:kfree_skb event in %s", tr->dir);
		tr_trace_stop(tr);
		return -ENOENT;
	}
	tr->reason = find_reason(tr->dir);
	if (tr->reason < 0) {
		/* Nothing can then be reported with it: the count stays 0 */
		tr_log("this kernel has no %s drop reason", REASON);
		return 0;
	}
	snprintf(filter, sizeof(filter), "reason == %d", tr->reason);
	err = write_str(tr->dir, EVENT "/filter", filter);
	err = err ?: write_str(tr->dir, EVENT "/enable", "1");
	err = err ?: write_str(tr->dir, "trace", "");
	if (err) {
		tr_trace_stop(tr);
		return err;
	}
	return 0;
}

long tr_trace_count(const struct tr_trace *tr)
{
	char path[256], *buf, *line, *save;
	long count = 0;

	if (!tr->dir[0])
		return -ENOENT;
	if (tr->reason < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/trace", tr->dir);
	buf = read_all(path, NULL);
	if (!buf) {
		tr_log("reading %s: %s", path, strerror(errno));
		return -EIO;
	}
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] != '#' && strstr(line, "reason: " REASON))
			count++;
	}
	free(buf);
	return count;
}

void tr_trace_stop(struct tr_trace *tr)
{
	char event[256];

	if (!tr->dir[0])
		return;
	snprintf(event, sizeof(event), "%s/%s/enable", tr->dir, EVENT);
	if (!access(event, F_OK))
		write_str(tr->dir, EVENT "/enable", "0");
	if (rmdir(tr->dir))
		tr_log("rmdir(%s): %s", tr->dir, strerror(errno));
	tr->dir[0] = '\0';
}
