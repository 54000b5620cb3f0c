// SPDX-License-Identifier: GPL-2.0
/*
 * Dump a connection in every TCP state it can be migrated in, close it in
 * repair mode, move its address to another namespace and restore it there,
 * with both restore recipes of Documentation/networking/tcp_repair.rst:
 *
 * libsoccr         the received FIN or the ACK of our FIN is injected
 *                  from a raw socket while the restored socket is still in
 *                  repair mode; unsent data is written by turning repair
 *                  off and on again (the toggle) before TCP_REPAIR_WINDOW.
 * freeze_friendly  TCP_REPAIR_WINDOW, TCP_REPAIR_OFF_NO_WP, and only then
 *                  the injection; LAST_ACK and CLOSE turn repair on again
 *                  for the shutdown() that records our FIN as sent.
 *
 * Both recipes set TCP_TIMESTAMP before connect(): libsoccr sets it after,
 * which lets the peer adopt an unshifted TSval now and then and stall the
 * test; the difference under test is where the injection happens.
 *
 * Each case then checks the connection end to end: the state read back,
 * the queued data and new data byte-exact in the directions the state
 * allows, EOF where a FIN was received, both ends closed in order, and no
 * RST from the peer or the target. The *_peer_sending cases keep the peer
 * sending while the connection is dumped, closed and restored: nothing may
 * be lost, which takes the repair-mode freeze.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "lib/tcp_repair.h"

#define TEST_TIMEOUT	120

#define IN_LEN		3000	/* peer to origin, unread at the dump */
#define OUT_LEN		65536	/* origin to peer, unacknowledged at the dump */
#define ACKED_LEN	5000	/* origin to peer, acknowledged before */
#define NEW_LEN		7000	/* each way after the restore */
#define STREAM_LEN	2000	/* each burst of the peer during a migration */
#define STREAM_NR	4

#define ST(s)		(1 << TR_##s)
#define PEER_FIN	(ST(CLOSE_WAIT) | ST(LAST_ACK) | ST(CLOSING) | ST(CLOSE))
#define OUR_FIN		(ST(FIN_WAIT1) | ST(FIN_WAIT2) | ST(LAST_ACK) | \
			 ST(CLOSING) | ST(CLOSE))
#define OUR_FIN_ACKED	(ST(FIN_WAIT2) | ST(CLOSE))
#define WE_SEND		(ST(ESTABLISHED) | ST(CLOSE_WAIT))
#define PEER_SENDS	(ST(ESTABLISHED) | ST(FIN_WAIT1) | ST(FIN_WAIT2))

static bool in(int state, int set)
{
	return (1 << state) & set;
}

FIXTURE(halfclosed) {
	struct tr_env env;
	long rst0[TR_NS_NR];
	struct tr_dump d;
	bool dumped;
	int state;
	bool peer_sending;
	char in_q[IN_LEN + STREAM_NR * STREAM_LEN];
	size_t in_len;		/* what origin and then target must receive */
	char out_q[OUT_LEN];
	size_t out_len;		/* what the peer must receive */
	size_t out_queued;	/* the part still in origin's send queue */
};

FIXTURE_VARIANT(halfclosed) {
	int family;
	bool mapped;
	bool libsoccr;
};

FIXTURE_VARIANT_ADD(halfclosed, ipv4_libsoccr) {
	.family = AF_INET,
	.libsoccr = true,
};

FIXTURE_VARIANT_ADD(halfclosed, ipv4_freeze_friendly) {
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(halfclosed, ipv6_libsoccr) {
	.family = AF_INET6,
	.libsoccr = true,
};

FIXTURE_VARIANT_ADD(halfclosed, ipv6_freeze_friendly) {
	.family = AF_INET6,
};

FIXTURE_VARIANT_ADD(halfclosed, mapped_libsoccr) {
	.family = AF_INET,
	.mapped = true,
	.libsoccr = true,
};

FIXTURE_VARIANT_ADD(halfclosed, mapped_freeze_friendly) {
	.family = AF_INET,
	.mapped = true,
};

/*
 * One topology per family for all the tests, made before the harness forks
 * them; each test gets it back reset (lib/env.c)
 */
static void __attribute__((constructor)) share_topologies(void)
{
	tr_env_share(AF_INET, 0);
	tr_env_share(AF_INET6, 0);
}

FIXTURE_SETUP(halfclosed)
{
	int err;

	self->dumped = false;
	err = tr_env_init(&self->env, variant->family,
			  variant->mapped ? TR_TOPO_MAPPED : 0);
	if (tr_skip_reason(err))
		SKIP(return, "%s", tr_skip_reason(err));
	ASSERT_EQ(0, err);
	self->rst0[TR_PEER] = tr_mib(self->env.topo.ns[TR_PEER], "TcpOutRsts");
	self->rst0[TR_TARGET] = tr_mib(self->env.topo.ns[TR_TARGET],
				       "TcpOutRsts");
	ASSERT_LE(0, self->rst0[TR_PEER]);
	ASSERT_LE(0, self->rst0[TR_TARGET]);
	tr_fill(self->in_q, sizeof(self->in_q), 1);
	tr_fill(self->out_q, sizeof(self->out_q), 2);
}

FIXTURE_TEARDOWN(halfclosed)
{
	if (self->dumped)
		tr_dump_free(&self->d);
	tr_env_fini(&self->env);
}

/* The peer sends its next burst; target must eventually get it in order */
static void peer_burst(struct __test_metadata *_metadata,
		       struct _test_data_halfclosed *self)
{
	const char *buf = self->in_q + self->in_len;

	ASSERT_GE(sizeof(self->in_q), self->in_len + STREAM_LEN);
	ASSERT_EQ(STREAM_LEN, tr_send_all(self->env.peer, buf, STREAM_LEN,
					  TR_ARRIVAL_TIMEOUT));
	self->in_len += STREAM_LEN;
}

/*
 * Bring origin into @state with data in its queues: IN_LEN bytes from the
 * peer unread, and where our FIN is not acknowledged, OUT_LEN bytes lost on
 * the way out (the first congestion window in flight, the rest unsent).
 * With @quiet, origin sends nothing unacknowledged and its path stays
 * open, unless the state needs it blocked (FIN_WAIT1).
 */
static void prepare(struct __test_metadata *_metadata,
		    struct _test_data_halfclosed *self, int state, bool quiet)
{
	int sndbuf = 1 << 20;

	self->state = state;
	ASSERT_EQ(0, tr_env_connect(&self->env));

	/* Received and acknowledged, not read: the receive queue */
	self->in_len = IN_LEN;
	ASSERT_EQ(IN_LEN, tr_send_all(self->env.peer, self->in_q, IN_LEN,
				      TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_wait_inq(self->env.origin, IN_LEN, TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_outq(self->env.peer, 0, TR_RETRANS_TIMEOUT));

	if (in(state, PEER_FIN) && state != TR_CLOSING) {
		ASSERT_EQ(0, shutdown(self->env.peer, SHUT_WR));
		ASSERT_EQ(0, tr_wait_state(self->env.origin, TR_CLOSE_WAIT,
					   TR_RETRANS_TIMEOUT));
		ASSERT_EQ(0, tr_wait_state(self->env.peer, TR_FIN_WAIT2,
					   TR_RETRANS_TIMEOUT));
	}

	if (in(state, OUR_FIN_ACKED) || (quiet && state == TR_ESTABLISHED)) {
		/* Delivered and acknowledged: nothing left to send */
		self->out_len = ACKED_LEN;
		self->out_queued = 0;
		ASSERT_EQ(ACKED_LEN, tr_send_all(self->env.origin, self->out_q,
						 ACKED_LEN,
						 TR_ARRIVAL_TIMEOUT));
		ASSERT_EQ(0, tr_wait_outq(self->env.origin, 0,
					  TR_RETRANS_TIMEOUT));
		if (state == TR_ESTABLISHED)
			return;
		ASSERT_EQ(0, shutdown(self->env.origin, SHUT_WR));
		ASSERT_EQ(0, tr_wait_state(self->env.origin, state,
					   TR_RETRANS_TIMEOUT));
		/* CLOSE: the peer went through TIME_WAIT */
		if (state == TR_CLOSE)
			ASSERT_EQ(0, tr_wait_closed(self->env.peer, TR_RETRANS_TIMEOUT));
		return;
	}

	/* Lost on the way out: our data, and our FIN after it */
	ASSERT_EQ(0, setsockopt(self->env.origin, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				sizeof(sndbuf)));
	ASSERT_EQ(0, tr_topo_block(&self->env.topo, TR_ORIGIN, true));
	self->out_len = OUT_LEN;
	self->out_queued = OUT_LEN;
	ASSERT_EQ(OUT_LEN, tr_send_all(self->env.origin, self->out_q, OUT_LEN,
				       TR_ARRIVAL_TIMEOUT));
	ASSERT_LT(0, tr_outq_nsd(self->env.origin));
	ASSERT_GT(OUT_LEN, tr_outq_nsd(self->env.origin));
	if (in(state, OUR_FIN))
		ASSERT_EQ(0, shutdown(self->env.origin, SHUT_WR));
	/* Simultaneous close: the peer's FIN comes, our ACK of it is lost */
	if (state == TR_CLOSING)
		ASSERT_EQ(0, shutdown(self->env.peer, SHUT_WR));
	ASSERT_EQ(0, tr_wait_state(self->env.origin, state, TR_ARRIVAL_TIMEOUT));
}

static void dump(struct __test_metadata *_metadata,
		 struct _test_data_halfclosed *self)
{
	bool fin_unacked = in(self->state, OUR_FIN & ~OUR_FIN_ACKED);
	size_t sndq = self->out_queued;
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);

	ASSERT_EQ(0, getsockname(self->env.peer, (struct sockaddr *)&peer, &len));
	ASSERT_EQ(0, tr_dump_peer(self->env.origin, &peer, &self->d));
	self->dumped = true;
	ASSERT_STREQ(tr_state_str(self->state), tr_state_str(self->d.state));
	ASSERT_EQ(self->in_len, self->d.rcvq_len);
	ASSERT_EQ(0, memcmp(self->d.rcvq, self->in_q, self->d.rcvq_len));
	ASSERT_EQ(fin_unacked, self->d.fin_queued);
	ASSERT_EQ(sndq, tr_dump_sndq_data(&self->d));
	ASSERT_EQ(0, memcmp(self->d.sndq, self->out_q, sndq));
	if (sndq) {
		EXPECT_LT(0, tr_dump_unsent_data(&self->d));
		EXPECT_GT(sndq, tr_dump_unsent_data(&self->d));
	}
}

/* A bare FIN|ACK or ACK from the peer's address, as restore tools send */
static int inject(struct _test_data_halfclosed *self, const struct tr_dump *d,
		  uint8_t flags, uint32_t seq, uint32_t ack)
{
	uint32_t win = d->wnd.snd_wnd >> d->snd_wscale;
	struct tr_seg seg = {
		.seq = seq,
		.ack = ack,
		.win = win > 0xffff ? 0xffff : win,
		.flags = flags,
	};

	return tr_inject_routed(self->env.topo.ns[TR_TARGET], &d->peer,
				&d->self, &seg);
}

static void shutdown_queued(struct __test_metadata *_metadata, int fd)
{
	ASSERT_EQ(0, tr_repair_queue(fd, TCP_SEND_QUEUE));
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_EQ(0, tr_repair_queue(fd, TCP_NO_QUEUE));
}

/*
 * libsoccr's order: queues, the toggle for unsent data, the window, then
 * the FINs replayed in repair mode, the socket being rebuilt taking the
 * injected segments; repair off last.
 */
static void restore_libsoccr(struct __test_metadata *_metadata,
			     struct _test_data_halfclosed *self,
			     const struct tr_dump *d, const struct tr_dump *r)
{
	uint32_t rcv_nxt = d->rcv_seq, snd_una = tr_dump_snd_una(r);
	int fd = self->env.target, state = self->state;

	if (tr_dump_unsent_data(r)) {
		ASSERT_EQ(0, tr_repair(fd, TCP_REPAIR_OFF));
		ASSERT_EQ(0, tr_restore_unsent(fd, r));
		ASSERT_EQ(0, tr_repair(fd, TCP_REPAIR_ON));
	}
	ASSERT_EQ(0, tr_restore_window(fd, r));

	switch (state) {
	case TR_FIN_WAIT1:
		/* Not acknowledged: the FIN goes out for real */
		ASSERT_EQ(0, shutdown(fd, SHUT_WR));
		break;
	case TR_FIN_WAIT2:
		shutdown_queued(_metadata, fd);
		ASSERT_EQ(0, inject(self, d, TR_ACK, rcv_nxt, d->snd_seq));
		break;
	case TR_CLOSE_WAIT:
		ASSERT_EQ(0, inject(self, d, TR_FIN | TR_ACK, rcv_nxt - 1,
				    snd_una));
		break;
	case TR_LAST_ACK:
		ASSERT_EQ(0, inject(self, d, TR_FIN | TR_ACK, rcv_nxt - 1,
				    snd_una));
		ASSERT_EQ(0, tr_wait_state(fd, TR_CLOSE_WAIT,
					   TR_ARRIVAL_TIMEOUT));
		ASSERT_EQ(0, shutdown(fd, SHUT_WR));
		break;
	case TR_CLOSING:
		ASSERT_EQ(0, shutdown(fd, SHUT_WR));
		ASSERT_EQ(0, inject(self, d, TR_FIN | TR_ACK, rcv_nxt - 1,
				    snd_una));
		break;
	case TR_CLOSE:
		shutdown_queued(_metadata, fd);
		ASSERT_EQ(0, inject(self, d, TR_ACK, rcv_nxt - 1, d->snd_seq));
		ASSERT_EQ(0, tr_wait_state(fd, TR_FIN_WAIT2,
					   TR_ARRIVAL_TIMEOUT));
		ASSERT_EQ(0, inject(self, d, TR_FIN | TR_ACK, rcv_nxt - 1,
				    d->snd_seq));
		break;
	}
	ASSERT_EQ(0, tr_wait_state(fd, state, TR_ARRIVAL_TIMEOUT))
		TH_LOG("an injected segment was not taken in repair mode");
	ASSERT_EQ(0, tr_repair(fd, TCP_REPAIR_OFF));
}

/*
 * The freeze-friendly order: nothing is injected before the socket has
 * left repair mode with its window restored. Where our FIN follows unsent
 * data in the same repair period, that data goes in as sent.
 */
static void restore_freeze_friendly(struct __test_metadata *_metadata,
				    struct _test_data_halfclosed *self,
				    const struct tr_dump *d,
				    const struct tr_dump *r)
{
	uint32_t rcv_nxt = d->rcv_seq, snd_una = tr_dump_snd_una(r);
	bool fin_unacked = in(self->state, OUR_FIN & ~OUR_FIN_ACKED);
	int fd = self->env.target, state = self->state;

	if (fin_unacked)
		ASSERT_EQ(0, tr_restore_unsent_repair(fd, r));
	ASSERT_EQ(0, tr_restore_window(fd, r));
	if (state == TR_FIN_WAIT1 || state == TR_FIN_WAIT2 ||
	    state == TR_CLOSING)
		shutdown_queued(_metadata, fd);
	ASSERT_EQ(0, tr_repair(fd, TCP_REPAIR_OFF_NO_WP));
	if (!fin_unacked)
		ASSERT_EQ(0, tr_restore_unsent(fd, r));

	switch (state) {
	case TR_FIN_WAIT2:
		ASSERT_EQ(0, inject(self, d, TR_ACK, rcv_nxt, d->snd_seq));
		break;
	case TR_CLOSE:
	case TR_CLOSE_WAIT:
	case TR_LAST_ACK:
		ASSERT_EQ(0, inject(self, d, TR_FIN | TR_ACK, rcv_nxt - 1,
				    snd_una));
		ASSERT_EQ(0, tr_wait_state(fd, TR_CLOSE_WAIT,
					   TR_ARRIVAL_TIMEOUT));
		if (state == TR_CLOSE_WAIT)
			break;
		/* A plain shutdown() would send the FIN again */
		ASSERT_EQ(0, tr_repair(fd, TCP_REPAIR_ON));
		shutdown_queued(_metadata, fd);
		ASSERT_EQ(0, tr_repair(fd, TCP_REPAIR_OFF_NO_WP));
		if (state == TR_CLOSE)
			ASSERT_EQ(0, inject(self, d, TR_ACK, rcv_nxt,
					    d->snd_seq));
		break;
	case TR_CLOSING:
		ASSERT_EQ(0, inject(self, d, TR_FIN | TR_ACK, rcv_nxt - 1,
				    snd_una));
		break;
	}
	ASSERT_EQ(0, tr_wait_state(fd, state, TR_ARRIVAL_TIMEOUT))
		TH_LOG("an injected segment was not taken after repair mode");
}

static void migrate(struct __test_metadata *_metadata,
		    struct _test_data_halfclosed *self,
		    const struct _fixture_variant_halfclosed *variant)
{
	struct tr_dump r = self->d;	/* shares the buffers */
	struct tcp_info ti;

	ASSERT_EQ(0, tr_env_close_origin(&self->env));
	/* Lost: origin has neither the address nor the socket any more */
	if (self->peer_sending)
		peer_burst(_metadata, self);
	ASSERT_EQ(0, tr_topo_move(&self->env.topo));

	/* Rebuilt without the FINs, which are replayed */
	if (in(self->state, PEER_FIN))
		r.rcv_seq--;
	if (in(self->state, OUR_FIN_ACKED))
		r.snd_seq--;
	self->env.target = tr_restore_sock(self->env.topo.ns[TR_TARGET], &r);
	ASSERT_LE(0, self->env.target);
	if (variant->libsoccr)
		restore_libsoccr(_metadata, self, &self->d, &r);
	else
		restore_freeze_friendly(_metadata, self, &self->d, &r);
	if (self->peer_sending)
		peer_burst(_metadata, self);

	/* Nothing from the peer reaches target yet: the state is ours */
	ASSERT_EQ(0, tr_tcp_info(self->env.target, &ti));
	EXPECT_STREQ(tr_state_str(self->state), tr_state_str(ti.tcpi_state));
	EXPECT_EQ(self->d.options &
		  (TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE),
		  ti.tcpi_options &
		  (TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE));
	EXPECT_EQ((int)self->d.snd_wscale, (int)ti.tcpi_snd_wscale);
	EXPECT_EQ((int)self->d.rcv_wscale, (int)ti.tcpi_rcv_wscale);
	ASSERT_EQ(0, tr_env_switch(&self->env));
}

static void expect_no_rst(struct __test_metadata *_metadata,
			  struct _test_data_halfclosed *self)
{
	EXPECT_EQ(self->rst0[TR_PEER],
		  tr_mib(self->env.topo.ns[TR_PEER], "TcpOutRsts"))
		TH_LOG("the peer sent a RST");
	EXPECT_EQ(self->rst0[TR_TARGET],
		  tr_mib(self->env.topo.ns[TR_TARGET], "TcpOutRsts"))
		TH_LOG("the target sent a RST");
	EXPECT_EQ(0, tr_sock_error(self->env.peer));
	EXPECT_EQ(0, tr_sock_error(self->env.target));
}

/* Everything queued, then new data where the state allows, then the end */
static void check(struct __test_metadata *_metadata,
		  struct _test_data_halfclosed *self, int peer, int target)
{
	int state = self->state;
	char *buf;

	ASSERT_EQ(0, tr_expect_data(target, self->in_q, self->in_len,
				    TR_RETRANS_TIMEOUT))
		TH_LOG("the data from the peer did not arrive in full");
	if (in(state, PEER_FIN))
		EXPECT_EQ(0, tr_recv_eof(target, TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(peer, self->out_q, self->out_len,
				    TR_RETRANS_TIMEOUT))
		TH_LOG("the data from origin did not arrive in full");
	if (in(state, OUR_FIN))
		EXPECT_EQ(0, tr_recv_eof(peer, TR_RETRANS_TIMEOUT));

	buf = malloc(NEW_LEN);
	ASSERT_NE(NULL, buf);
	if (in(state, WE_SEND)) {
		tr_fill(buf, NEW_LEN, 3);
		EXPECT_EQ(NEW_LEN, tr_send_all(target, buf, NEW_LEN,
					       TR_ARRIVAL_TIMEOUT));
		EXPECT_EQ(0, tr_expect_data(peer, buf, NEW_LEN,
					    TR_RETRANS_TIMEOUT));
	}
	if (in(state, PEER_SENDS)) {
		tr_fill(buf, NEW_LEN, 4);
		EXPECT_EQ(NEW_LEN, tr_send_all(peer, buf, NEW_LEN,
					       TR_ARRIVAL_TIMEOUT));
		EXPECT_EQ(0, tr_expect_data(target, buf, NEW_LEN,
					    TR_RETRANS_TIMEOUT));
	}
	free(buf);

	if (!in(state, OUR_FIN)) {
		ASSERT_EQ(0, shutdown(target, SHUT_WR));
		EXPECT_EQ(0, tr_recv_eof(peer, TR_RETRANS_TIMEOUT));
	}
	if (!in(state, PEER_FIN)) {
		ASSERT_EQ(0, shutdown(peer, SHUT_WR));
		EXPECT_EQ(0, tr_recv_eof(target, TR_RETRANS_TIMEOUT));
	}
	EXPECT_EQ(0, tr_wait_closed(target, TR_RETRANS_TIMEOUT));
	EXPECT_EQ(0, tr_wait_closed(peer, TR_RETRANS_TIMEOUT));
	expect_no_rst(_metadata, self);
}

static void run(struct __test_metadata *_metadata,
		struct _test_data_halfclosed *self,
		const struct _fixture_variant_halfclosed *variant, int state)
{
	prepare(_metadata, self, state, false);
	dump(_metadata, self);
	migrate(_metadata, self, variant);
	check(_metadata, self, self->env.peer, self->env.target);
}

/*
 * The peer sends before the dump, while origin is in repair mode, after
 * origin is closed and before the path switches to target. A kernel that
 * lets the socket in repair mode acknowledge the second burst loses it.
 */
static void run_peer_sending(struct __test_metadata *_metadata,
			     struct _test_data_halfclosed *self,
			     const struct _fixture_variant_halfclosed *variant,
			     int state)
{
	struct tr_snap s0;
	int64_t drops0;
	int outq;

	prepare(_metadata, self, state, true);
	self->peer_sending = true;
	peer_burst(_metadata, self);
	ASSERT_EQ(0, tr_wait_inq(self->env.origin, self->in_len,
				 TR_RETRANS_TIMEOUT));
	dump(_metadata, self);

	ASSERT_EQ(0, tr_snap_take(self->env.origin, &s0));
	drops0 = tr_drops(self->env.origin);
	/* Unacknowledged before the burst, and after it */
	outq = tr_outq(self->env.peer);
	ASSERT_LE(0, outq);
	outq += STREAM_LEN;
	peer_burst(_metadata, self);
	ASSERT_EQ(0, tr_wait_arrival(self->env.origin, &s0, drops0,
				     self->env.peer, outq, TR_ARRIVAL_TIMEOUT))
		TH_LOG("the peer's data never reached the socket being dumped");
	/* Acknowledged, it would be in no image, and lost for good */
	ASSERT_EQ(outq, tr_outq(self->env.peer))
		TH_LOG("the socket being dumped acknowledged the peer's data");

	migrate(_metadata, self, variant);
	check(_metadata, self, self->env.peer, self->env.target);
}

TEST_F_TIMEOUT(halfclosed, established, TEST_TIMEOUT)
{
	run(_metadata, self, variant, TR_ESTABLISHED);
}

TEST_F_TIMEOUT(halfclosed, fin_wait1, TEST_TIMEOUT)
{
	run(_metadata, self, variant, TR_FIN_WAIT1);
}

TEST_F_TIMEOUT(halfclosed, fin_wait2, TEST_TIMEOUT)
{
	run(_metadata, self, variant, TR_FIN_WAIT2);
}

TEST_F_TIMEOUT(halfclosed, close_wait, TEST_TIMEOUT)
{
	run(_metadata, self, variant, TR_CLOSE_WAIT);
}

TEST_F_TIMEOUT(halfclosed, last_ack, TEST_TIMEOUT)
{
	run(_metadata, self, variant, TR_LAST_ACK);
}

TEST_F_TIMEOUT(halfclosed, closing, TEST_TIMEOUT)
{
	run(_metadata, self, variant, TR_CLOSING);
}

TEST_F_TIMEOUT(halfclosed, close, TEST_TIMEOUT)
{
	run(_metadata, self, variant, TR_CLOSE);
}

TEST_F_TIMEOUT(halfclosed, established_peer_sending, TEST_TIMEOUT)
{
	run_peer_sending(_metadata, self, variant, TR_ESTABLISHED);
}

TEST_F_TIMEOUT(halfclosed, fin_wait1_peer_sending, TEST_TIMEOUT)
{
	run_peer_sending(_metadata, self, variant, TR_FIN_WAIT1);
}

TEST_F_TIMEOUT(halfclosed, fin_wait2_peer_sending, TEST_TIMEOUT)
{
	run_peer_sending(_metadata, self, variant, TR_FIN_WAIT2);
}

/*
 * The SYN is lost; the socket is restored with its initial sequence
 * number and connect()s for real. libsoccr turns repair on again after
 * connect(): the handshake must complete in repair mode (a socket in
 * SYN_SENT when repair goes on is not frozen). The other order completes
 * it once repair is off.
 */
TEST_F_TIMEOUT(halfclosed, syn_sent, TEST_TIMEOUT)
{
	int family = tr_topo_sock_family(&self->env.topo);
	struct sockaddr_storage svc, cli;
	socklen_t len = sizeof(cli);
	struct pollfd pfd;
	uint32_t seq;
	int lfd;

	self->state = TR_SYN_SENT;
	tr_topo_addr(&self->env.topo, TR_SERVICE, 0, &svc);
	tr_topo_addr(&self->env.topo, TR_CLIENT, 0, &cli);
	lfd = tr_ns_socket(self->env.topo.ns[TR_PEER], family,
			   SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, lfd);
	self->env.peer = lfd;	/* closed by the teardown until accept() */
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&cli, tr_addr_len(&cli)));
	ASSERT_EQ(0, listen(lfd, 1));
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&cli, &len));

	ASSERT_EQ(0, tr_topo_block(&self->env.topo, TR_ORIGIN, true));
	self->env.origin = tr_ns_socket(self->env.topo.ns[TR_ORIGIN], family,
					SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
				    0);
	ASSERT_LE(0, self->env.origin);
	ASSERT_EQ(0, bind(self->env.origin, (struct sockaddr *)&svc,
			  tr_addr_len(&svc)));
	ASSERT_EQ(-1, connect(self->env.origin, (struct sockaddr *)&cli,
			      tr_addr_len(&cli)));
	ASSERT_EQ(EINPROGRESS, errno);
	ASSERT_EQ(TR_SYN_SENT, tr_tcp_state(self->env.origin));

	ASSERT_EQ(0, tr_dump_peer(self->env.origin, &cli, &self->d));
	self->dumped = true;
	ASSERT_STREQ("SYN_SENT", tr_state_str(self->d.state));
	ASSERT_EQ(0, self->d.rcvq_len);
	ASSERT_EQ(0, self->d.sndq_len);

	ASSERT_EQ(0, tr_env_leave(&self->env));
	/* The peer knows nothing of this connection yet: it can switch now */
	if (variant->libsoccr)
		ASSERT_EQ(0, tr_env_switch(&self->env));
	self->env.target = tr_restore_syn_sent(self->env.topo.ns[TR_TARGET],
					       &self->d);
	ASSERT_LE(0, self->env.target);

	if (variant->libsoccr) {
		ASSERT_EQ(0, tr_wait_state(self->env.target, TR_ESTABLISHED,
					   TR_RETRANS_TIMEOUT))
			TH_LOG("the handshake did not complete in repair mode");
		ASSERT_EQ(0, tr_queue_seq(self->env.target, TCP_SEND_QUEUE, &seq));
		EXPECT_EQ(self->d.snd_seq, seq)
			TH_LOG("not the initial sequence number of the dump");
		ASSERT_EQ(0, tr_repair_queue(self->env.target, TCP_NO_QUEUE));
		ASSERT_EQ(0, tr_repair(self->env.target, TCP_REPAIR_OFF));
	} else {
		/* The SYN|ACK goes to origin: still SYN_SENT */
		EXPECT_STREQ("SYN_SENT",
			     tr_state_str(tr_tcp_state(self->env.target)));
		ASSERT_EQ(0, tr_repair(self->env.target, TCP_REPAIR_OFF));
		ASSERT_EQ(0, tr_env_switch(&self->env));
		ASSERT_EQ(0, tr_wait_state(self->env.target, TR_ESTABLISHED,
					   TR_RETRANS_TIMEOUT));
	}

	pfd.fd = lfd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, TR_RETRANS_TIMEOUT));
	self->env.peer = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	close(lfd);
	ASSERT_LE(0, self->env.peer);

	/* New data both ways, then an orderly close */
	self->state = TR_ESTABLISHED;
	self->in_len = 0;
	self->out_len = 0;
	check(_metadata, self, self->env.peer, self->env.target);
}

TEST_HARNESS_MAIN
