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
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "lib/tcp_repair.h"

/* What getsockopt(SO_REUSEADDR) reports while repair forces reuse. */
#define REUSE_FORCED		2

#define TIMEOUT_MS		5000

FIXTURE(reuseaddr) {
	int unused;
};

FIXTURE_VARIANT(reuseaddr) {
	int family;
};

FIXTURE_VARIANT_ADD(reuseaddr, ipv4) {
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(reuseaddr, ipv6) {
	.family = AF_INET6,
};

FIXTURE_SETUP(reuseaddr)
{
	int fd, err;

	err = tr_ns_unshare();
	if (tr_skip_reason(err))
		SKIP(return, "%s", tr_skip_reason(err));
	ASSERT_EQ(0, err);
	fd = tr_ns_socket(-1, variant->family, SOCK_STREAM, 0);
	if (tr_skip_reason(fd))
		SKIP(return, "%s", tr_skip_reason(fd));
	ASSERT_LE(0, fd);
	close(fd);
}

FIXTURE_TEARDOWN(reuseaddr)
{
	/*
	 * Sockets are closed and the namespace (with any TIME_WAIT left in
	 * it) goes away when the test process exits.
	 */
}

static int bind_lo(const struct _fixture_variant_reuseaddr *variant, int fd,
		   unsigned short port)
{
	struct sockaddr_storage ss;

	tr_addr_loopback(variant->family, port, &ss);
	return bind(fd, (struct sockaddr *)&ss, tr_addr_len(&ss));
}

static unsigned short local_port(struct __test_metadata *_metadata, int fd)
{
	int port = tr_local_port(fd);

	ASSERT_LT(0, port);
	return port;
}

static void set_reuse(struct __test_metadata *_metadata, int fd, int val)
{
	ASSERT_EQ(0, tr_sockopt_set(fd, SOL_SOCKET, SO_REUSEADDR, val))
		TH_LOG("setsockopt(SO_REUSEADDR, %d): %s", val, strerror(errno));
}

static int get_reuse(struct __test_metadata *_metadata, int fd)
{
	int val = tr_sockopt_get(fd, SOL_SOCKET, SO_REUSEADDR);

	ASSERT_LE(0, val);
	return val;
}

static void set_repair(struct __test_metadata *_metadata, int fd, int mode)
{
	ASSERT_EQ(0, tr_repair(fd, mode));
}

/* A TCP socket with SO_REUSEADDR set to @reuse (left alone if negative). */
static int tcp_socket(struct __test_metadata *_metadata,
		      const struct _fixture_variant_reuseaddr *variant, int reuse)
{
	int fd = tr_ns_socket(-1, variant->family, SOCK_STREAM, 0);

	ASSERT_LE(0, fd);
	if (reuse >= 0)
		set_reuse(_metadata, fd, reuse);
	return fd;
}

static int tcp_listener(struct __test_metadata *_metadata,
			const struct _fixture_variant_reuseaddr *variant, int reuse,
			unsigned short port)
{
	struct sockaddr_storage ss;
	int fd;

	tr_addr_loopback(variant->family, port, &ss);
	fd = tr_listen(-1, &ss, reuse);
	ASSERT_LE(0, fd);
	return fd;
}

/* Connect a new client to @listener; return it and the accepted socket. */
static void tcp_pair(struct __test_metadata *_metadata,
		     const struct _fixture_variant_reuseaddr *variant, int listener,
		     int *client, int *accepted)
{
	ASSERT_EQ(0, tr_connect_to(listener, -1, NULL, 0, client, accepted));
}

/* @len bytes from @from arrive intact on @to */
static void xfer(struct __test_metadata *_metadata, int from, int to,
		 size_t len)
{
	ASSERT_EQ(0, tr_xfer(from, to, len, len));
}

/* Check that @listener takes a new connection. */
static void check_accepts(struct __test_metadata *_metadata,
			  const struct _fixture_variant_reuseaddr *variant, int listener)
{
	int c, a;

	tcp_pair(_metadata, variant, listener, &c, &a);
	xfer(_metadata, c, a, 5);
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
	xfer(_metadata, c, a, 4);
	xfer(_metadata, a, c, 4);

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
	xfer(_metadata, a, c, 4);
	xfer(_metadata, c, a, 4);

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
	unsigned short port;
	int l, c, a, r, n;
	struct tr_dump d;

	l = tcp_listener(_metadata, variant, 1, 0);
	port = local_port(_metadata, l);
	tcp_pair(_metadata, variant, l, &c, &a);
	close(l);

	set_reuse(_metadata, a, 1);
	xfer(_metadata, a, c, 11);
	xfer(_metadata, c, a, 8);
	ASSERT_EQ(0, tr_wait_outq(a, 0, TIMEOUT_MS));

	ASSERT_EQ(0, tr_dump(a, &d));
	/* Nothing to copy: the test drained both directions first. */
	ASSERT_EQ(0, d.sndq_len);
	ASSERT_EQ(0, d.rcvq_len);
	close(a);

	/* SO_REUSEADDR = 1 set before repair-on, as CRIU restores options */
	ASSERT_TRUE(d.reuseaddr);
	r = tr_restore(-1, &d, TCP_REPAIR_OFF);
	ASSERT_LE(0, r);
	tr_dump_free(&d);
	ASSERT_EQ(port, local_port(_metadata, r));
	EXPECT_EQ(1, get_reuse(_metadata, r));

	xfer(_metadata, r, c, 12);
	xfer(_metadata, c, r, 11);

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

	l = tcp_listener(_metadata, variant, 1, 0);
	port = local_port(_metadata, l);
	tcp_pair(_metadata, variant, l, &c, &a);
	close(l);

	set_reuse(_metadata, a, 1);
	set_repair(_metadata, a, TCP_REPAIR_ON);
	set_repair(_metadata, a, TCP_REPAIR_OFF);
	xfer(_metadata, a, c, 4);
	xfer(_metadata, c, a, 4);

	/* Active close by the repaired side, then the peer closes. */
	close(a);
	ASSERT_EQ(0, tr_recv_eof(c, TIMEOUT_MS));
	close(c);

	ASSERT_EQ(0, tr_tcp_table_wait(-1, port, TR_TIME_WAIT, TIMEOUT_MS))
		TH_LOG("no TIME_WAIT on port %hu", port);

	n = tcp_socket(_metadata, variant, 1);
	ASSERT_EQ(0, bind_lo(variant, n, port))
		TH_LOG("bind() over the TIME_WAIT: %s", strerror(errno));
	ASSERT_EQ(0, listen(n, 8))
		TH_LOG("listen() over the TIME_WAIT: %s", strerror(errno));
	ASSERT_EQ(1, tr_tcp_table_has(-1, port, TR_TIME_WAIT));
	check_accepts(_metadata, variant, n);

	close(n);
}

TEST_HARNESS_MAIN
