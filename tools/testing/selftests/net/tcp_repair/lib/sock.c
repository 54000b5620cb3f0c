// SPDX-License-Identifier: GPL-2.0
/*
 * Connections between the namespaces, socket state getters, bounded waits
 * and byte-exact data transfer.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>

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

/* Polling interval of the bounded waits, never a synchronisation. */
void tr_msleep(int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int poll_one(int fd, short events, int64_t deadline)
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

static int set_nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, SOL_TCP, TCP_NODELAY, &one, sizeof(one)))
		return -errno;
	return 0;
}

/*
 * The peer connects from its address to the service address in @server.
 * Both sockets are non-blocking with TCP_NODELAY; the listener is gone.
 */
int tr_connect_pair(struct tr_topo *t, enum tr_ns server, int *peer_fd,
		    int *server_fd)
{
	int64_t deadline = tr_now_ms() + TR_SETUP_TIMEOUT;
	struct sockaddr_storage svc, cli;
	int lfd, cfd = -1, afd = -1, err;
	socklen_t len = sizeof(svc);
	int soerr = 0;

	tr_topo_addr(t, TR_SERVICE, 0, &svc);
	tr_topo_addr(t, TR_CLIENT, 0, &cli);

	lfd = tr_ns_socket(t->ns[server], tr_topo_sock_family(t),
			   SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return lfd;
	if (bind(lfd, (struct sockaddr *)&svc, tr_addr_len(&svc)) ||
	    listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&svc, &len)) {
		err = -errno;
		tr_log("listening on %s: %s", tr_addr_str(&svc),
		       strerror(errno));
		goto out;
	}

	cfd = tr_ns_socket(t->ns[TR_PEER], tr_topo_sock_family(t),
			   SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (cfd < 0) {
		err = cfd;
		goto out;
	}
	if (bind(cfd, (struct sockaddr *)&cli, tr_addr_len(&cli)) ||
	    (connect(cfd, (struct sockaddr *)&svc, tr_addr_len(&svc)) &&
	     errno != EINPROGRESS)) {
		err = -errno;
		tr_log("connecting to %s: %s", tr_addr_str(&svc),
		       strerror(errno));
		goto out;
	}

	err = poll_one(lfd, POLLIN, deadline);
	if (!err) {
		afd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (afd < 0)
			err = -errno;
	}
	if (!err)
		err = poll_one(cfd, POLLOUT, deadline);
	len = sizeof(soerr);
	if (!err && getsockopt(cfd, SOL_SOCKET, SO_ERROR, &soerr, &len))
		err = -errno;
	if (!err && soerr)
		err = -soerr;
	if (err) {
		tr_log("connection to %s not established: %s",
		       tr_addr_str(&svc), strerror(-err));
		goto out;
	}
	err = set_nodelay(cfd);
	err = err ?: set_nodelay(afd);
	if (err)
		goto out;
	*peer_fd = cfd;
	*server_fd = afd;
	cfd = -1;
	afd = -1;
out:
	if (afd >= 0)
		close(afd);
	if (cfd >= 0)
		close(cfd);
	close(lfd);
	return err;
}

int tr_tcp_info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	if (getsockopt(fd, SOL_TCP, TCP_INFO, ti, &len))
		return -errno;
	return 0;
}

int tr_tcp_state(int fd)
{
	struct tcp_info ti;
	int err;

	err = tr_tcp_info(fd, &ti);
	return err ? err : ti.tcpi_state;
}

const char *tr_state_str(int state)
{
	static const char *const names[] = {
		[TR_ESTABLISHED]	= "ESTABLISHED",
		[TR_SYN_SENT]		= "SYN_SENT",
		[TR_SYN_RECV]		= "SYN_RECV",
		[TR_FIN_WAIT1]		= "FIN_WAIT1",
		[TR_FIN_WAIT2]		= "FIN_WAIT2",
		[TR_TIME_WAIT]		= "TIME_WAIT",
		[TR_CLOSE]		= "CLOSE",
		[TR_CLOSE_WAIT]		= "CLOSE_WAIT",
		[TR_LAST_ACK]		= "LAST_ACK",
		[TR_LISTEN]		= "LISTEN",
		[TR_CLOSING]		= "CLOSING",
	};

	if (state > 0 && state < (int)ARRAY_SIZE(names) &&
	    names[state])
		return names[state];
	return "?";
}

static int ioctl_int(int fd, unsigned long req)
{
	int val;

	if (ioctl(fd, req, &val))
		return -errno;
	return val;
}

int tr_inq(int fd)
{
	return ioctl_int(fd, SIOCINQ);
}

int tr_outq(int fd)
{
	return ioctl_int(fd, SIOCOUTQ);
}

int tr_outq_nsd(int fd)
{
	return ioctl_int(fd, SIOCOUTQNSD);
}

int tr_meminfo(int fd, uint32_t mem[SK_MEMINFO_VARS])
{
	socklen_t len = sizeof(uint32_t) * SK_MEMINFO_VARS;

	memset(mem, 0, len);
	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len))
		return -errno;
	return 0;
}

/* Segments the socket dropped (SK_MEMINFO_DROPS), or -errno */
int64_t tr_drops(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS];
	int err;

	err = tr_meminfo(fd, mem);
	return err ? err : (int64_t)mem[SK_MEMINFO_DROPS];
}

/* SO_ERROR: reading it clears it. */
int tr_sock_error(int fd)
{
	socklen_t len = sizeof(int);
	int val;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &val, &len))
		return -errno;
	return val;
}

struct snmp_args {
	const char *field;
	long val;
};

static int snmp_fn(void *arg)
{
	struct snmp_args *a = arg;
	char names[1024], values[1024], *n, *v, *sn, *sv;
	int err = -ENOENT;
	FILE *f;

	/* /proc/self/net follows the namespace of the reading thread */
	f = fopen("/proc/self/net/snmp", "re");
	if (!f)
		return -errno;
	while (fgets(names, sizeof(names), f)) {
		if (strncmp(names, "Tcp:", 4))
			continue;
		if (!fgets(values, sizeof(values), f))
			break;
		n = strtok_r(names, "\n ", &sn);
		v = strtok_r(values, "\n ", &sv);
		while (n && v) {
			if (!strcmp(n, a->field)) {
				a->val = strtol(v, NULL, 10);
				err = 0;
				break;
			}
			n = strtok_r(NULL, "\n ", &sn);
			v = strtok_r(NULL, "\n ", &sv);
		}
		break;
	}
	fclose(f);
	return err;
}

/* A "Tcp:" counter of /proc/net/snmp in @ns (shared by IPv4 and IPv6) */
long tr_snmp_tcp(int ns, const char *field)
{
	struct snmp_args a = { field, 0 };
	int err;

	err = tr_ns_run(ns, snmp_fn, &a);
	if (err) {
		tr_log("Tcp: %s not found in /proc/net/snmp", field);
		return err;
	}
	return a.val;
}

/* Deterministic bytes: a stream can be checked without keeping a copy. */
void tr_fill(void *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 0x9e3779b9u;
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = x >> 24;
	}
}

/* Returns the bytes sent (fewer on timeout) or -errno. */
ssize_t tr_send_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = tr_now_ms() + timeout_ms;
	size_t done = 0;
	ssize_t n;
	int err;

	while (done < len) {
		n = send(fd, (const char *)buf + done, len - done,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			done += n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		err = poll_one(fd, POLLOUT, deadline);
		if (err == -ETIMEDOUT)
			break;
		if (err)
			return err;
	}
	return done;
}

/* Returns the bytes received (fewer on timeout or EOF) or -errno. */
ssize_t tr_recv_all(int fd, void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = tr_now_ms() + timeout_ms;
	size_t done = 0;
	ssize_t n;
	int err;

	while (done < len) {
		n = recv(fd, (char *)buf + done, len - done, MSG_DONTWAIT);
		if (n > 0) {
			done += n;
			continue;
		}
		if (n == 0)
			break;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		err = poll_one(fd, POLLIN, deadline);
		if (err == -ETIMEDOUT)
			break;
		if (err)
			return err;
	}
	return done;
}

/* 0 on EOF, 1 if data came instead, -ETIMEDOUT, or the socket's -errno */
int tr_recv_eof(int fd, int timeout_ms)
{
	int64_t deadline = tr_now_ms() + timeout_ms;
	ssize_t n;
	char c;
	int err;

	for (;;) {
		n = recv(fd, &c, 1, MSG_DONTWAIT);
		if (n == 0)
			return 0;
		if (n > 0)
			return 1;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		err = poll_one(fd, POLLIN, deadline);
		if (err)
			return err;
	}
}

int tr_expect_data(int fd, const void *expect, size_t len, int timeout_ms)
{
	const unsigned char *e = expect;
	unsigned char *buf;
	ssize_t n;
	size_t i;
	int err = 0;

	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	n = tr_recv_all(fd, buf, len, timeout_ms);
	if (n < 0) {
		tr_log("receiving %zu bytes: %s", len, strerror(-n));
		err = n;
	} else if ((size_t)n < len) {
		tr_log("received %zd of %zu bytes within %d ms", n, len,
		       timeout_ms);
		err = -ETIMEDOUT;
	} else {
		for (i = 0; i < len; i++) {
			if (buf[i] != e[i]) {
				tr_log("byte %zu of %zu differs: 0x%02x, expected 0x%02x",
				       i, len, buf[i], e[i]);
				err = -EBADMSG;
				break;
			}
		}
	}
	free(buf);
	return err;
}

static int wait_value(int fd, int (*get)(int), int want, int timeout_ms,
		      const char *what)
{
	int64_t deadline = tr_now_ms() + timeout_ms;
	int val;

	for (;;) {
		val = get(fd);
		if (val == want)
			return 0;
		if (tr_now_ms() > deadline) {
			tr_log("%s is %d, not %d, after %d ms", what, val, want,
			       timeout_ms);
			return -ETIMEDOUT;
		}
		tr_msleep(1);
	}
}

int tr_wait_outq(int fd, int bytes, int timeout_ms)
{
	return wait_value(fd, tr_outq, bytes, timeout_ms, "SIOCOUTQ");
}

int tr_wait_inq(int fd, int bytes, int timeout_ms)
{
	return wait_value(fd, tr_inq, bytes, timeout_ms, "SIOCINQ");
}

int tr_wait_state(int fd, int state, int timeout_ms)
{
	int err;

	err = wait_value(fd, tr_tcp_state, state, timeout_ms, "tcpi_state");
	if (err)
		tr_log("still %s, waiting for %s",
		       tr_state_str(tr_tcp_state(fd)), tr_state_str(state));
	return err;
}
