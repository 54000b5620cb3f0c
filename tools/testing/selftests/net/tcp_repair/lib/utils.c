// SPDX-License-Identifier: GPL-2.0
/*
 * Diagnostics, time, bounded polls and socket option wrappers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tcp_repair.h"

/* Diagnostics go to stderr, like TH_LOG(): stdout may be lost on _exit(). */
void tr_log(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "# %s\n", buf);
}

int64_t tr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void tr_msleep(int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int tr_poll(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int ret;

	for (;;) {
		left = deadline - tr_now_ms();
		if (left < 0)
			left = 0;
		ret = poll(&pfd, 1, left);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0)
			return -errno;
		return ret ? 0 : -ETIMEDOUT;
	}
}

int tr_sockopt_set(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) ? -errno : 0;
}

int tr_sockopt_get(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int val;

	if (getsockopt(fd, level, name, &val, &len))
		return -errno;
	return val;
}

int tr_setsockopt(int fd, int level, int name, int val, const char *what)
{
	int err = tr_sockopt_set(fd, level, name, val);

	if (err)
		tr_log("setsockopt(%s, %d): %s", what, val, strerror(-err));
	return err;
}

int tr_getsockopt(int fd, int level, int name, int *val, const char *what)
{
	socklen_t len = sizeof(*val);

	if (getsockopt(fd, level, name, val, &len)) {
		int err = -errno;

		tr_log("getsockopt(%s): %s", what, strerror(errno));
		return err;
	}
	return 0;
}
