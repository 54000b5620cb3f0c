// SPDX-License-Identifier: GPL-2.0
/*
 * Connections, socket state getters, bounded waits and byte-exact data
 * transfer.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "tcp_repair.h"

int tr_listen(int ns, const struct sockaddr_storage *addr, int reuse)
{
	int fd, err;

	fd = tr_ns_socket(ns, addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	err = reuse < 0 ? 0 : tr_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR,
					    reuse, "SO_REUSEADDR");
	if (!err && (bind(fd, (struct sockaddr *)addr, tr_addr_len(addr)) ||
		     listen(fd, 8))) {
		err = -errno;
		tr_log("listening on %s: %s", tr_addr_str(addr),
		       strerror(errno));
	}
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int set_flags(int fd, unsigned int flags)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 ||
	    fcntl(fd, F_SETFL, flags & TR_NONBLOCK ? fl | O_NONBLOCK :
						     fl & ~O_NONBLOCK))
		return -errno;
	if (flags & TR_NODELAY)
		return tr_setsockopt(fd, SOL_TCP, TCP_NODELAY, 1,
				     "TCP_NODELAY");
	return 0;
}

int tr_connect_to(int lfd, int ns, const struct sockaddr_storage *src,
		  unsigned int flags, int *cfd, int *afd)
{
	int64_t deadline = tr_now_ms() + TR_SETUP_TIMEOUT;
	int c = -1, a = -1, err;
	struct sockaddr_storage dst;
	socklen_t len = sizeof(dst);

	if (getsockname(lfd, (struct sockaddr *)&dst, &len))
		return -errno;
	c = tr_ns_socket(ns, dst.ss_family,
			 SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c < 0)
		return c;
	if ((src && bind(c, (struct sockaddr *)src, tr_addr_len(src))) ||
	    (connect(c, (struct sockaddr *)&dst, tr_addr_len(&dst)) &&
	     errno != EINPROGRESS)) {
		err = -errno;
		tr_log("connecting to %s: %s", tr_addr_str(&dst),
		       strerror(errno));
		goto out;
	}
	err = tr_poll(lfd, POLLIN, deadline);
	if (!err) {
		a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (a < 0)
			err = -errno;
	}
	err = err ?: tr_poll(c, POLLOUT, deadline);
	if (!err) {
		err = tr_sock_error(c);
		err = err > 0 ? -err : err;
	}
	if (err) {
		tr_log("connection to %s not established: %s",
		       tr_addr_str(&dst), strerror(-err));
		goto out;
	}
	err = set_flags(c, flags);
	err = err ?: set_flags(a, flags);
	if (err)
		goto out;
	*cfd = c;
	*afd = a;
	return 0;
out:
	if (a >= 0)
		close(a);
	close(c);
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
	return tr_sockopt_get(fd, SOL_SOCKET, SO_ERROR);
}

int tr_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	return tr_addr_port(&ss);
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
		err = tr_poll(fd, POLLOUT, deadline);
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
		err = tr_poll(fd, POLLIN, deadline);
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
		err = tr_poll(fd, POLLIN, deadline);
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

int tr_xfer(int from, int to, size_t len, uint32_t seed)
{
	char *buf = malloc(len ? len : 1);
	ssize_t n;
	int err;

	if (!buf)
		return -ENOMEM;
	tr_fill(buf, len, seed);
	n = tr_send_all(from, buf, len, TR_ARRIVAL_TIMEOUT);
	if (n != (ssize_t)len) {
		tr_log("sending %zu bytes: %s", len,
		       n < 0 ? strerror(-n) : "timeout");
		err = n < 0 ? n : -ETIMEDOUT;
	} else {
		err = tr_expect_data(to, buf, len, TR_RETRANS_TIMEOUT);
	}
	free(buf);
	return err;
}

int tr_exchange(int a, int b, size_t len, uint32_t seed)
{
	int err;

	err = tr_xfer(a, b, len, seed);
	err = err ?: tr_xfer(b, a, len, seed + 1);
	/* Both ends have nothing in flight: the peer has nothing to send */
	err = err ?: tr_wait_outq(a, 0, TR_RETRANS_TIMEOUT);
	return err ?: tr_wait_outq(b, 0, TR_RETRANS_TIMEOUT);
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

static int ca_state(int fd)
{
	struct tcp_info ti;
	int err;

	err = tr_tcp_info(fd, &ti);
	return err ? err : ti.tcpi_ca_state;
}

int tr_wait_ca_state(int fd, int state, int timeout_ms)
{
	return wait_value(fd, ca_state, state, timeout_ms, "tcpi_ca_state");
}

static int closed_state(int fd)
{
	int state = tr_tcp_state(fd);

	return state == TR_TIME_WAIT ? TR_CLOSE : state;
}

int tr_wait_closed(int fd, int timeout_ms)
{
	return wait_value(fd, closed_state, TR_CLOSE, timeout_ms,
			  "tcpi_state (7: CLOSE)");
}
