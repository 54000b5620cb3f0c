// SPDX-License-Identifier: GPL-2.0
/*
 * SO_REUSEADDR across TCP repair mode.
 *
 * TCP_REPAIR_ON forces address reuse on the socket (sk_reuse becomes
 * SK_FORCE_REUSE, read back as 2) so that a socket being rebuilt can be
 * bound whatever else holds the port.  Leaving repair mode must give the
 * socket back the SO_REUSEADDR value it had before, or the value the
 * application set while it was in repair, for both TCP_REPAIR_OFF and
 * TCP_REPAIR_OFF_NO_WP.  Kernels that reset it to 0 instead make a later
 * listener on the same port fail with EADDRINUSE, and so does the
 * TIME_WAIT socket such a connection leaves behind.
 *
 * Every test runs in a network namespace of its own, over loopback.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>
#include <linux/tcp.h>

#include "../../kselftest_harness.h"

#ifndef TCP_REPAIR
#define TCP_REPAIR		19
#endif
#ifndef TCP_REPAIR_QUEUE
#define TCP_REPAIR_QUEUE	20
#endif
#ifndef TCP_QUEUE_SEQ
#define TCP_QUEUE_SEQ		21
#endif
#ifndef TCP_REPAIR_OPTIONS
#define TCP_REPAIR_OPTIONS	22
#endif
#ifndef TCP_TIMESTAMP
#define TCP_TIMESTAMP		24
#endif
#ifndef TCP_REPAIR_WINDOW
#define TCP_REPAIR_WINDOW	29
#endif
#ifndef TCP_REPAIR_ON
#define TCP_REPAIR_ON		1
#endif
#ifndef TCP_REPAIR_OFF
#define TCP_REPAIR_OFF		0
#endif
#ifndef TCP_REPAIR_OFF_NO_WP
#define TCP_REPAIR_OFF_NO_WP	-1
#endif

/* Option codes understood by TCP_REPAIR_OPTIONS (not in the UAPI). */
#ifndef TCPOPT_MSS
#define TCPOPT_MSS		2
#endif
#ifndef TCPOPT_WINDOW
#define TCPOPT_WINDOW		3
#endif
#ifndef TCPOPT_SACK_PERM
#define TCPOPT_SACK_PERM	4
#endif
#ifndef TCPOPT_TIMESTAMP
#define TCPOPT_TIMESTAMP	8
#endif

/* What getsockopt(SO_REUSEADDR) reports while repair forces reuse. */
#define REUSE_FORCED		2

#define TIMEOUT_MS		5000

/* TCP state numbers as printed in /proc/net/tcp{,6}. */
#define PROC_TCP_TIME_WAIT	6

FIXTURE(reuseaddr) {
	int unused;
};

FIXTURE_VARIANT(reuseaddr) {
	int family;
	const char *addr;
	const char *proc;
};

FIXTURE_VARIANT_ADD(reuseaddr, ipv4) {
	.family = AF_INET,
	.addr = "127.0.0.1",
	.proc = "/proc/net/tcp",
};

FIXTURE_VARIANT_ADD(reuseaddr, ipv6) {
	.family = AF_INET6,
	.addr = "::1",
	.proc = "/proc/net/tcp6",
};

FIXTURE_SETUP(reuseaddr)
{
	struct ifreq ifr = {};
	int fd;

	if (unshare(CLONE_NEWNET))
		SKIP(return, "unshare(CLONE_NEWNET): %s", strerror(errno));

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, fd);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ASSERT_EQ(0, ioctl(fd, SIOCGIFFLAGS, &ifr));
	ifr.ifr_flags |= IFF_UP;
	ASSERT_EQ(0, ioctl(fd, SIOCSIFFLAGS, &ifr));
	close(fd);

	if (variant->family == AF_INET6) {
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		if (fd < 0 && errno == EAFNOSUPPORT)
			SKIP(return, "IPv6 is not available");
		ASSERT_LE(0, fd);
		close(fd);
	}
}

FIXTURE_TEARDOWN(reuseaddr)
{
	/*
	 * Sockets are closed and the namespace (with any TIME_WAIT left in
	 * it) goes away when the test process exits.
	 */
}

static socklen_t lo_addr(const struct _fixture_variant_reuseaddr *variant,
			 unsigned short port, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6;

	memset(ss, 0, sizeof(*ss));
	if (variant->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, variant->addr, &sin->sin_addr);
		return sizeof(*sin);
	}
	sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	inet_pton(AF_INET6, variant->addr, &sin6->sin6_addr);
	return sizeof(*sin6);
}

static int bind_lo(const struct _fixture_variant_reuseaddr *variant, int fd,
		   unsigned short port)
{
	struct sockaddr_storage ss;
	socklen_t len = lo_addr(variant, port, &ss);

	return bind(fd, (struct sockaddr *)&ss, len);
}

static unsigned short local_port(struct __test_metadata *_metadata, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&ss, &len));
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void set_reuse(struct __test_metadata *_metadata, int fd, int val)
{
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &val, sizeof(val)))
		TH_LOG("setsockopt(SO_REUSEADDR, %d): %s", val, strerror(errno));
}

static int get_reuse(struct __test_metadata *_metadata, int fd)
{
	socklen_t len = sizeof(int);
	int val = -1;

	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &val, &len));
	return val;
}

static void set_repair(struct __test_metadata *_metadata, int fd, int mode)
{
	ASSERT_EQ(0, setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &mode, sizeof(mode)))
		TH_LOG("setsockopt(TCP_REPAIR, %d): %s", mode, strerror(errno));
}

/* A TCP socket with SO_REUSEADDR set to @reuse (left alone if negative). */
static int tcp_socket(struct __test_metadata *_metadata,
		      const struct _fixture_variant_reuseaddr *variant, int reuse)
{
	int fd = socket(variant->family, SOCK_STREAM, 0);

	ASSERT_LE(0, fd) TH_LOG("socket(): %s", strerror(errno));
	if (reuse >= 0)
		set_reuse(_metadata, fd, reuse);
	return fd;
}

static int tcp_listener(struct __test_metadata *_metadata,
			const struct _fixture_variant_reuseaddr *variant, int reuse,
			unsigned short port)
{
	int fd = tcp_socket(_metadata, variant, reuse);

	ASSERT_EQ(0, bind_lo(variant, fd, port))
		TH_LOG("bind(%s:%hu): %s", variant->addr, port, strerror(errno));
	ASSERT_EQ(0, listen(fd, 8)) TH_LOG("listen(): %s", strerror(errno));
	return fd;
}

/* Connect a new client to @listener; return it and the accepted socket. */
static void tcp_pair(struct __test_metadata *_metadata,
		     const struct _fixture_variant_reuseaddr *variant, int listener,
		     int *client, int *accepted)
{
	struct sockaddr_storage ss;
	socklen_t len = lo_addr(variant, local_port(_metadata, listener), &ss);

	*client = tcp_socket(_metadata, variant, -1);
	ASSERT_EQ(0, connect(*client, (struct sockaddr *)&ss, len))
		TH_LOG("connect(): %s", strerror(errno));
	*accepted = accept(listener, NULL, NULL);
	ASSERT_LE(0, *accepted) TH_LOG("accept(): %s", strerror(errno));
}

static bool wait_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, TIMEOUT_MS) == 1;
}

/* Send @msg on @from and check that exactly it arrives on @to. */
static void xfer(struct __test_metadata *_metadata, int from, int to,
		 const char *msg)
{
	size_t len = strlen(msg), got = 0;
	char buf[64];
	ssize_t n;

	ASSERT_GT(sizeof(buf), len);
	ASSERT_EQ((ssize_t)len, send(from, msg, len, 0))
		TH_LOG("send(): %s", strerror(errno));
	while (got < len) {
		ASSERT_TRUE(wait_readable(to)) TH_LOG("no data within %d ms", TIMEOUT_MS);
		n = recv(to, buf + got, len - got, MSG_DONTWAIT);
		ASSERT_LT(0, n) TH_LOG("recv(): %zd, %s", n, strerror(errno));
		got += n;
	}
	ASSERT_EQ(0, memcmp(buf, msg, len));
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Poll until nothing is left unacknowledged in @fd's send queue. */
static bool wait_outq_empty(int fd)
{
	long long deadline = now_ms() + TIMEOUT_MS;
	int outq;

	do {
		if (ioctl(fd, SIOCOUTQ, &outq))
			return false;
		if (!outq)
			return true;
		poll(NULL, 0, 1);
	} while (now_ms() < deadline);
	return false;
}

/* Is there a socket bound to local @port in @state in this namespace? */
static bool proc_has_state(const char *path, unsigned short port,
			   unsigned int state)
{
	unsigned int lport, st;
	bool found = false;
	char line[512];
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x",
			   &lport, &st) != 2)
			continue;
		found = lport == port && st == state;
	}
	fclose(f);
	return found;
}

static bool wait_proc_state(const char *path, unsigned short port,
			    unsigned int state)
{
	long long deadline = now_ms() + TIMEOUT_MS;

	do {
		if (proc_has_state(path, port, state))
			return true;
		poll(NULL, 0, 1);
	} while (now_ms() < deadline);
	return false;
}

/* Check that @listener takes a new connection. */
static void check_accepts(struct __test_metadata *_metadata,
			  const struct _fixture_variant_reuseaddr *variant, int listener)
{
	int c, a;

	tcp_pair(_metadata, variant, listener, &c, &a);
	xfer(_metadata, c, a, "hello");
	close(a);
	close(c);
}

/*
 * Set SO_REUSEADDR to @initial on @fd, then run @rounds repair cycles, the
 * i-th one left with @off_modes[i]: the value reads 2 in repair and
 * @initial again after each repair-off.
 */
static void round_trip(struct __test_metadata *_metadata, int fd, int initial,
		       const int *off_modes, int rounds)
{
	int i, val;

	set_reuse(_metadata, fd, initial);
	ASSERT_EQ(initial, get_reuse(_metadata, fd));

	for (i = 0; i < rounds; i++) {
		set_repair(_metadata, fd, TCP_REPAIR_ON);
		EXPECT_EQ(REUSE_FORCED, get_reuse(_metadata, fd))
			TH_LOG("round %d: value in repair", i);
		set_repair(_metadata, fd, off_modes[i]);
		val = get_reuse(_metadata, fd);
		ASSERT_EQ(initial, val)
			TH_LOG("round %d: SO_REUSEADDR %d before repair, %d after TCP_REPAIR_%s",
			       i, initial, val,
			       off_modes[i] == TCP_REPAIR_OFF ? "OFF" : "OFF_NO_WP");
	}
}

static void connected_round_trip(struct __test_metadata *_metadata,
				 const struct _fixture_variant_reuseaddr *variant,
				 const int *off_modes, int rounds)
{
	int initial, l, c, a;

	l = tcp_listener(_metadata, variant, 0, 0);
	tcp_pair(_metadata, variant, l, &c, &a);

	for (initial = 0; initial <= 1; initial++) {
		round_trip(_metadata, c, initial, off_modes, rounds);
		round_trip(_metadata, a, initial, off_modes, rounds);
	}

	/* The connection is still usable both ways. */
	xfer(_metadata, c, a, "ping");
	xfer(_metadata, a, c, "pong");

	close(a);
	close(c);
	close(l);
}

static const int off_only[] = { TCP_REPAIR_OFF };
static const int off_no_wp_only[] = { TCP_REPAIR_OFF_NO_WP };
static const int off_mixed[] = {
	TCP_REPAIR_OFF, TCP_REPAIR_OFF_NO_WP, TCP_REPAIR_OFF_NO_WP,
	TCP_REPAIR_OFF, TCP_REPAIR_OFF, TCP_REPAIR_OFF_NO_WP,
};

/* 0 and 1 survive one round trip left with TCP_REPAIR_OFF. */
TEST_F(reuseaddr, off_keeps_value)
{
	connected_round_trip(_metadata, variant, off_only, 1);
}

/* Same, left with TCP_REPAIR_OFF_NO_WP. */
TEST_F(reuseaddr, off_no_wp_keeps_value)
{
	connected_round_trip(_metadata, variant, off_no_wp_only, 1);
}

/* Same over several cycles mixing both ways out. */
TEST_F(reuseaddr, toggles_keep_value)
{
	connected_round_trip(_metadata, variant, off_mixed, ARRAY_SIZE(off_mixed));
}

/* A socket that was never connected behaves the same. */
TEST_F(reuseaddr, unconnected_off_keeps_value)
{
	int initial, fd;

	fd = tcp_socket(_metadata, variant, -1);
	for (initial = 0; initial <= 1; initial++) {
		round_trip(_metadata, fd, initial, off_only, 1);
		round_trip(_metadata, fd, initial, off_no_wp_only, 1);
	}
	close(fd);
}

/* A second TCP_REPAIR_ON while in repair does not lose the saved value. */
TEST_F(reuseaddr, repair_on_twice_keeps_value)
{
	int initial, l, c, a;

	l = tcp_listener(_metadata, variant, 0, 0);
	tcp_pair(_metadata, variant, l, &c, &a);

	for (initial = 0; initial <= 1; initial++) {
		set_reuse(_metadata, c, initial);
		set_repair(_metadata, c, TCP_REPAIR_ON);
		set_repair(_metadata, c, TCP_REPAIR_ON);
		EXPECT_EQ(REUSE_FORCED, get_reuse(_metadata, c));
		set_repair(_metadata, c, TCP_REPAIR_OFF);
		ASSERT_EQ(initial, get_reuse(_metadata, c))
			TH_LOG("SO_REUSEADDR %d lost after two TCP_REPAIR_ON", initial);
	}

	close(a);
	close(c);
	close(l);
}

/*
 * The application sets SO_REUSEADDR while the socket is in repair: its value
 * is the one left after repair-off, and it is kept by a further round trip.
 */
static void set_in_repair(struct __test_metadata *_metadata,
			  const struct _fixture_variant_reuseaddr *variant,
			  int before, int during)
{
	int l, c, a;

	l = tcp_listener(_metadata, variant, 0, 0);
	tcp_pair(_metadata, variant, l, &c, &a);

	set_reuse(_metadata, c, before);
	set_repair(_metadata, c, TCP_REPAIR_ON);
	set_reuse(_metadata, c, during);
	set_repair(_metadata, c, TCP_REPAIR_OFF);
	ASSERT_EQ(during, get_reuse(_metadata, c))
		TH_LOG("SO_REUSEADDR %d before repair, set to %d in repair", before, during);

	set_repair(_metadata, c, TCP_REPAIR_ON);
	set_repair(_metadata, c, TCP_REPAIR_OFF_NO_WP);
	ASSERT_EQ(during, get_reuse(_metadata, c))
		TH_LOG("value set in repair lost by a second round trip");

	close(a);
	close(c);
	close(l);
}

TEST_F(reuseaddr, set_in_repair_0_to_1)
{
	set_in_repair(_metadata, variant, 0, 1);
}

TEST_F(reuseaddr, set_in_repair_1_to_0)
{
	set_in_repair(_metadata, variant, 1, 0);
}

/* Repair mode still forces reuse: bind() ignores a listener on the port. */
TEST_F(reuseaddr, bind_in_repair_ignores_listener)
{
	unsigned short port;
	int l, fd;

	l = tcp_listener(_metadata, variant, 0, 0);
	port = local_port(_metadata, l);

	fd = tcp_socket(_metadata, variant, 0);
	ASSERT_EQ(-1, bind_lo(variant, fd, port));
	ASSERT_EQ(EADDRINUSE, errno);

	set_repair(_metadata, fd, TCP_REPAIR_ON);
	ASSERT_EQ(0, bind_lo(variant, fd, port))
		TH_LOG("bind() in repair mode: %s", strerror(errno));
	set_repair(_metadata, fd, TCP_REPAIR_OFF);
	EXPECT_EQ(0, get_reuse(_metadata, fd));

	close(fd);
	close(l);
}

/*
 * The CRIU order: a connection is in repair, the process's listener is
 * bound on the same address:port meanwhile, the connection leaves repair,
 * then the listener calls listen().
 *
 * bind() succeeds whatever the connection's SO_REUSEADDR, because in repair
 * the connection has sk_reuse == SK_FORCE_REUSE and inet_bind_conflict()
 * only needs both sockets' sk_reuse to be non-zero for a non-listening
 * owner.  listen() goes through inet_csk_get_port() again with the socket
 * already in TCP_LISTEN: the bucket's fastreuse shortcut no longer applies
 * (reuse is false for a listener) and every owner of the address:port is
 * checked, so the connected socket conflicts unless its sk_reuse is
 * non-zero at that point.  The connection had SO_REUSEADDR = 1 before
 * repair-on, so listen() must succeed; a kernel that resets sk_reuse to 0
 * on repair-off fails it with EADDRINUSE.  The companion test below shows
 * the check really depends on the connection's value: with 0 before repair,
 * listen() fails on every kernel.
 */
static int criu_listen_order(struct __test_metadata *_metadata,
			     const struct _fixture_variant_reuseaddr *variant,
			     int conn_reuse, int *listen_errno)
{
	unsigned short port;
	int l, c, a, n, ret;

	l = tcp_listener(_metadata, variant, conn_reuse, 0);
	port = local_port(_metadata, l);
	tcp_pair(_metadata, variant, l, &c, &a);
	close(l);

	set_reuse(_metadata, a, conn_reuse);
	set_repair(_metadata, a, TCP_REPAIR_ON);

	n = tcp_socket(_metadata, variant, 1);
	ASSERT_EQ(0, bind_lo(variant, n, port))
		TH_LOG("bind() next to a connection in repair: %s", strerror(errno));

	set_repair(_metadata, a, TCP_REPAIR_OFF);
	EXPECT_EQ(conn_reuse, get_reuse(_metadata, a));

	ret = listen(n, 8);
	*listen_errno = ret ? errno : 0;
	if (!ret)
		check_accepts(_metadata, variant, n);

	/* The connection itself went through unharmed. */
	xfer(_metadata, a, c, "ping");
	xfer(_metadata, c, a, "pong");

	close(n);
	close(a);
	close(c);
	return ret;
}

TEST_F(reuseaddr, bind_in_repair_then_listen)
{
	int err;

	ASSERT_EQ(0, criu_listen_order(_metadata, variant, 1, &err))
		TH_LOG("listen() after repair-off of a SO_REUSEADDR connection: %s",
		       strerror(err));
}

TEST_F(reuseaddr, bind_in_repair_then_listen_no_reuse)
{
	int err;

	ASSERT_EQ(-1, criu_listen_order(_metadata, variant, 0, &err));
	ASSERT_EQ(EADDRINUSE, err);
}

struct tcp_dump {
	struct sockaddr_storage local, peer;
	socklen_t addrlen;
	__u32 snd_seq, rcv_seq;
	__u32 tsval;
	struct tcp_repair_window wnd;
	struct tcp_repair_opt opts[4];
	int nr_opts;
};

static __u32 queue_seq(struct __test_metadata *_metadata, int fd, int queue)
{
	socklen_t len = sizeof(__u32);
	__u32 seq;

	ASSERT_EQ(0, setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &queue, sizeof(queue)));
	ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &seq, &len));
	return seq;
}

static void set_queue_seq(struct __test_metadata *_metadata, int fd, int queue,
			  __u32 seq)
{
	ASSERT_EQ(0, setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &queue, sizeof(queue)));
	ASSERT_EQ(0, setsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &seq, sizeof(seq)))
		TH_LOG("TCP_QUEUE_SEQ: %s", strerror(errno));
}

/* Dump an established socket with empty queues; leaves it in repair. */
static void tcp_dump(struct __test_metadata *_metadata, int fd,
		     struct tcp_dump *d)
{
	struct tcp_info ti;
	socklen_t len;
	int val;

	memset(d, 0, sizeof(*d));
	d->addrlen = sizeof(d->local);
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&d->local, &d->addrlen));
	len = sizeof(d->peer);
	ASSERT_EQ(0, getpeername(fd, (struct sockaddr *)&d->peer, &len));

	set_repair(_metadata, fd, TCP_REPAIR_ON);

	/* Nothing to copy: the test drained both directions first. */
	ASSERT_EQ(0, ioctl(fd, SIOCOUTQ, &val));
	ASSERT_EQ(0, val);
	ASSERT_EQ(0, ioctl(fd, SIOCINQ, &val));
	ASSERT_EQ(0, val);

	d->snd_seq = queue_seq(_metadata, fd, TCP_SEND_QUEUE);
	d->rcv_seq = queue_seq(_metadata, fd, TCP_RECV_QUEUE);

	len = sizeof(d->wnd);
	ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &d->wnd, &len))
		TH_LOG("TCP_REPAIR_WINDOW: %s", strerror(errno));

	len = sizeof(d->tsval);
	ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_TIMESTAMP, &d->tsval, &len));

	len = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len));
	len = sizeof(val);
	ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &val, &len));

	d->opts[d->nr_opts].opt_code = TCPOPT_MSS;
	d->opts[d->nr_opts++].opt_val = val;
	if (ti.tcpi_options & TCPI_OPT_WSCALE) {
		d->opts[d->nr_opts].opt_code = TCPOPT_WINDOW;
		d->opts[d->nr_opts++].opt_val = ti.tcpi_snd_wscale |
						(ti.tcpi_rcv_wscale << 16);
	}
	if (ti.tcpi_options & TCPI_OPT_SACK) {
		d->opts[d->nr_opts].opt_code = TCPOPT_SACK_PERM;
		d->opts[d->nr_opts++].opt_val = 0;
	}
	if (ti.tcpi_options & TCPI_OPT_TIMESTAMPS) {
		d->opts[d->nr_opts].opt_code = TCPOPT_TIMESTAMP;
		d->opts[d->nr_opts++].opt_val = 0;
	}
}

/* Rebuild @d in a new socket, as CRIU does, and take it out of repair. */
static int tcp_restore(struct __test_metadata *_metadata,
		       const struct _fixture_variant_reuseaddr *variant,
		       const struct tcp_dump *d)
{
	int fd = tcp_socket(_metadata, variant, 1);

	set_repair(_metadata, fd, TCP_REPAIR_ON);
	set_queue_seq(_metadata, fd, TCP_RECV_QUEUE, d->rcv_seq);
	set_queue_seq(_metadata, fd, TCP_SEND_QUEUE, d->snd_seq);

	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&d->local, d->addrlen))
		TH_LOG("bind() in repair: %s", strerror(errno));
	ASSERT_EQ(0, setsockopt(fd, IPPROTO_TCP, TCP_TIMESTAMP, &d->tsval, sizeof(d->tsval)));
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&d->peer, d->addrlen))
		TH_LOG("connect() in repair: %s", strerror(errno));
	ASSERT_EQ(0, setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_OPTIONS, d->opts,
				d->nr_opts * sizeof(d->opts[0])))
		TH_LOG("TCP_REPAIR_OPTIONS: %s", strerror(errno));
	ASSERT_EQ(0, setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &d->wnd, sizeof(d->wnd)))
		TH_LOG("TCP_REPAIR_WINDOW: %s", strerror(errno));
	set_repair(_metadata, fd, TCP_REPAIR_OFF);
	return fd;
}

/*
 * Dump an accepted connection that had SO_REUSEADDR = 1, close it in repair,
 * restore it in a new socket with SO_REUSEADDR = 1 (set before repair-on,
 * like CRIU restores socket options).  The restored connection carries data
 * both ways, and a new SO_REUSEADDR listener can take the port.  The
 * restored socket is the only other owner of the address:port, so the
 * conflict checks of bind() (when the bucket's fastreuse shortcut does not
 * apply) and of listen() pass only if its sk_reuse is back to 1 after
 * repair-off; a kernel that leaves 0 there fails one of them with
 * EADDRINUSE.
 */
TEST_F(reuseaddr, restore_then_listen)
{
	struct tcp_dump d;
	unsigned short port;
	int l, c, a, r, n;

	l = tcp_listener(_metadata, variant, 1, 0);
	port = local_port(_metadata, l);
	tcp_pair(_metadata, variant, l, &c, &a);
	close(l);

	set_reuse(_metadata, a, 1);
	xfer(_metadata, a, c, "before dump");
	xfer(_metadata, c, a, "ack that");
	ASSERT_TRUE(wait_outq_empty(a));

	tcp_dump(_metadata, a, &d);
	close(a);

	r = tcp_restore(_metadata, variant, &d);
	ASSERT_EQ(port, local_port(_metadata, r));
	EXPECT_EQ(1, get_reuse(_metadata, r));

	xfer(_metadata, r, c, "restored out");
	xfer(_metadata, c, r, "restored in");

	n = tcp_socket(_metadata, variant, 1);
	ASSERT_EQ(0, bind_lo(variant, n, port))
		TH_LOG("bind() next to the restored connection: %s", strerror(errno));
	ASSERT_EQ(0, listen(n, 8))
		TH_LOG("listen() next to the restored connection: %s", strerror(errno));
	check_accepts(_metadata, variant, n);

	close(n);
	close(r);
	close(c);
}

/*
 * The socket that went through repair closes first, so it ends in TIME_WAIT,
 * which takes its tw_reuse from sk_reuse.  With SO_REUSEADDR = 1 restored,
 * a new SO_REUSEADDR socket can bind() the address:port and listen().
 */
TEST_F(reuseaddr, time_wait_keeps_value)
{
	unsigned short port;
	int l, c, a, n;
	char buf[8];

	l = tcp_listener(_metadata, variant, 1, 0);
	port = local_port(_metadata, l);
	tcp_pair(_metadata, variant, l, &c, &a);
	close(l);

	set_reuse(_metadata, a, 1);
	set_repair(_metadata, a, TCP_REPAIR_ON);
	set_repair(_metadata, a, TCP_REPAIR_OFF);
	xfer(_metadata, a, c, "ping");
	xfer(_metadata, c, a, "pong");

	/* Active close by the repaired side, then the peer closes. */
	close(a);
	ASSERT_TRUE(wait_readable(c));
	ASSERT_EQ(0, recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	close(c);

	ASSERT_TRUE(wait_proc_state(variant->proc, port, PROC_TCP_TIME_WAIT))
		TH_LOG("no TIME_WAIT on port %hu in %s", port, variant->proc);

	n = tcp_socket(_metadata, variant, 1);
	ASSERT_EQ(0, bind_lo(variant, n, port))
		TH_LOG("bind() over the TIME_WAIT: %s", strerror(errno));
	ASSERT_EQ(0, listen(n, 8))
		TH_LOG("listen() over the TIME_WAIT: %s", strerror(errno));
	ASSERT_TRUE(proc_has_state(variant->proc, port, PROC_TCP_TIME_WAIT));
	check_accepts(_metadata, variant, n);

	close(n);
}

TEST_HARNESS_MAIN
