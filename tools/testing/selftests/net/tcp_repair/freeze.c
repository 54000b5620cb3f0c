// SPDX-License-Identifier: GPL-2.0
/*
 * A live TCP socket put in repair mode is being dumped: it must not move.
 * Whatever the peer sends meanwhile (data, FIN, RST, ACK, garbage) is
 * dropped with reason SOCKET_REPAIR, nothing is acknowledged, and the
 * peer's retransmissions deliver it once repair mode is off, on this socket
 * or on its restored copy. A socket being rebuilt (connected in repair
 * mode) still accepts the segments restore tools inject.
 *
 * Topology (lib/netns.c): peer <-> origin, peer <-> target, the service
 * address moving from origin to target.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "lib/tcp_repair.h"

/* Per test: generous for software emulation, the waits are bounded anyway */
#define TEST_TIMEOUT	120

FIXTURE(freeze) {
	struct tr_topo topo;
	struct tr_trace trace;
	bool tracing;
	int peer;
	int origin;
	int target;
};

FIXTURE_VARIANT(freeze) {
	int family;
};

FIXTURE_VARIANT_ADD(freeze, ipv4) {
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(freeze, ipv6) {
	.family = AF_INET6,
};

FIXTURE_SETUP(freeze)
{
	int err;

	self->peer = -1;
	self->origin = -1;
	self->target = -1;
	err = tr_topo_init(&self->topo, variant->family);
	if (err == -ENOENT)
		SKIP(return, "ip(8) from iproute2 is needed");
	if (err == -EPERM)
		SKIP(return, "network namespaces need CAP_SYS_ADMIN");
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, tr_connect_pair(&self->topo, TR_ORIGIN, &self->peer,
				     &self->origin));

	self->tracing = !tr_trace_start(&self->trace);
	if (!self->tracing)
		TH_LOG("tracefs unusable: SOCKET_REPAIR tracepoint checks skipped");
}

FIXTURE_TEARDOWN(freeze)
{
	if (self->peer >= 0)
		close(self->peer);
	if (self->origin >= 0)
		close(self->origin);
	if (self->target >= 0)
		close(self->target);
	if (self->tracing)
		tr_trace_stop(&self->trace);
	tr_topo_fini(&self->topo);
}

/* What must not change while a socket is frozen */
struct snap {
	int state;
	uint32_t rcv_seq;		/* rcv_nxt */
	uint32_t snd_seq;		/* write_seq */
	int inq;
	int outq;
	int nsd;
	struct tcp_repair_window wnd;
	uint32_t mem[SK_MEMINFO_VARS];
	uint32_t ctl_out;		/* segments sent without data */
};

/* @fd must be in repair mode */
static int snap_take(int fd, struct snap *s)
{
	struct tcp_info ti;
	int err;

	memset(s, 0, sizeof(*s));
	err = tr_tcp_info(fd, &ti);
	if (err)
		return err;
	s->state = ti.tcpi_state;
	s->ctl_out = ti.tcpi_segs_out - ti.tcpi_data_segs_out;
	err = tr_queue_seq(fd, TCP_RECV_QUEUE, &s->rcv_seq);
	err = err ?: tr_queue_seq(fd, TCP_SEND_QUEUE, &s->snd_seq);
	err = err ?: tr_repair_queue(fd, TCP_NO_QUEUE);
	err = err ?: tr_window_get(fd, &s->wnd);
	err = err ?: tr_meminfo(fd, s->mem);
	if (err)
		return err;
	s->inq = tr_inq(fd);
	s->outq = tr_outq(fd);
	s->nsd = tr_outq_nsd(fd);
	return 0;
}

static void expect_unchanged(struct __test_metadata *_metadata,
			     const struct snap *a, const struct snap *b)
{
	EXPECT_STREQ(tr_state_str(a->state), tr_state_str(b->state))
		TH_LOG("the socket in repair mode changed state");
	EXPECT_EQ(a->rcv_seq, b->rcv_seq)
		TH_LOG("rcv_nxt moved: %u bytes accepted",
		       b->rcv_seq - a->rcv_seq);
	EXPECT_EQ(a->snd_seq, b->snd_seq);
	EXPECT_EQ(a->inq, b->inq) TH_LOG("SIOCINQ moved");
	EXPECT_EQ(a->outq, b->outq) TH_LOG("SIOCOUTQ moved: data acked");
	EXPECT_EQ(a->nsd, b->nsd);
	EXPECT_EQ(a->wnd.snd_wl1, b->wnd.snd_wl1);
	EXPECT_EQ(a->wnd.snd_wnd, b->wnd.snd_wnd);
	EXPECT_EQ(a->wnd.max_window, b->wnd.max_window);
	EXPECT_EQ(a->wnd.rcv_wnd, b->wnd.rcv_wnd);
	EXPECT_EQ(a->wnd.rcv_wup, b->wnd.rcv_wup);
	EXPECT_EQ(a->mem[SK_MEMINFO_RMEM_ALLOC], b->mem[SK_MEMINFO_RMEM_ALLOC]);
	EXPECT_EQ(a->mem[SK_MEMINFO_RCVBUF], b->mem[SK_MEMINFO_RCVBUF]);
	EXPECT_EQ(a->mem[SK_MEMINFO_SNDBUF], b->mem[SK_MEMINFO_SNDBUF]);
	EXPECT_EQ(a->mem[SK_MEMINFO_WMEM_QUEUED],
		  b->mem[SK_MEMINFO_WMEM_QUEUED]);
	EXPECT_EQ(a->mem[SK_MEMINFO_BACKLOG], b->mem[SK_MEMINFO_BACKLOG]);
}

/*
 * Nothing in these tests makes the frozen socket send anything of its own
 * but data retransmissions: no ACK, duplicate or challenge ACK, no RST.
 */
static void expect_silent(struct __test_metadata *_metadata,
			  const struct snap *a, const struct snap *b)
{
	EXPECT_EQ(a->ctl_out, b->ctl_out)
		TH_LOG("the socket in repair mode sent %u ACK/RST segments",
		       b->ctl_out - a->ctl_out);
}

struct counts {
	int64_t segs;		/* the sender's tcpi_segs_out, -1 if none */
	int64_t drops;		/* the frozen socket's SK_MEMINFO_DROPS */
	long trace;		/* SOCKET_REPAIR events, -1 without tracefs */
};

static int counts_read(struct _test_data_freeze *self, int frozen, int sender,
		       struct counts *c)
{
	struct tcp_info ti;
	int err;

	c->segs = -1;
	if (sender >= 0) {
		err = tr_tcp_info(sender, &ti);
		if (err)
			return err;
		c->segs = ti.tcpi_segs_out;
	}
	c->drops = tr_drops(frozen);
	if (c->drops < 0)
		return c->drops;
	c->trace = -1;
	if (self->tracing) {
		c->trace = tr_trace_count(&self->trace);
		if (c->trace < 0)
			return c->trace;
	}
	return 0;
}

/*
 * The peer retransmits on its own schedule, at least 200 ms apart: read
 * the three counters until two readings 30 ms apart agree, so that no
 * segment is counted by the sender and still in flight to the socket.
 */
static int counts_settle(struct _test_data_freeze *self, int frozen, int sender,
			 struct counts *c)
{
	int64_t deadline = tr_now_ms() + TR_ARRIVAL_TIMEOUT;
	struct counts prev;
	int err;

	err = counts_read(self, frozen, sender, &prev);
	while (!err) {
		tr_msleep(30);
		err = counts_read(self, frozen, sender, c);
		if (err)
			break;
		if (c->segs == prev.segs && c->drops == prev.drops &&
		    c->trace == prev.trace)
			return 0;
		if (tr_now_ms() > deadline) {
			tr_log("counters never settled");
			return -ETIMEDOUT;
		}
		prev = *c;
	}
	return err;
}

/* Every segment that reached the frozen socket was dropped and reported */
static void expect_drops(struct __test_metadata *_metadata,
			 struct _test_data_freeze *self, const struct counts *c0,
			 const struct counts *c1, int64_t segs)
{
	EXPECT_EQ(segs, c1->drops - c0->drops)
		TH_LOG("SK_MEMINFO_DROPS must count each dropped segment");
	if (!self->tracing) {
		TH_LOG("no tracefs: skb:kfree_skb check skipped");
		return;
	}
	EXPECT_EQ(segs, c1->trace - c0->trace)
		TH_LOG("skb:kfree_skb must report each one with reason SOCKET_REPAIR");
}

/*
 * Wait until what was just sent to @frozen got there: dropped (the drop
 * counter moved) or, by a kernel that does not freeze, acted upon (the
 * sender's unacknowledged bytes or the socket itself moved).
 */
static int wait_arrival(int frozen, const struct snap *s0, int64_t drops0,
			int sender, int sender_outq, int timeout_ms)
{
	int64_t deadline = tr_now_ms() + timeout_ms;

	for (;;) {
		if (tr_drops(frozen) > drops0)
			return 0;
		if (sender >= 0 && tr_outq(sender) < sender_outq)
			return 0;
		if (tr_tcp_state(frozen) != s0->state ||
		    tr_inq(frozen) != s0->inq || tr_outq(frozen) != s0->outq)
			return 0;
		if (tr_now_ms() > deadline)
			return -ETIMEDOUT;
		tr_msleep(1);
	}
}

/* Both ends have nothing in flight, so the peer has nothing to send */
static void quiesce(struct __test_metadata *_metadata, int a, int b)
{
	ASSERT_EQ(0, tr_wait_outq(a, 0, TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_outq(b, 0, TR_RETRANS_TIMEOUT));
}

static void exchange(struct __test_metadata *_metadata, int a, int b,
		     size_t len, uint32_t seed)
{
	char *buf = malloc(len);

	ASSERT_NE(NULL, buf);
	tr_fill(buf, len, seed);
	ASSERT_EQ(len, tr_send_all(a, buf, len, TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(b, buf, len, TR_RETRANS_TIMEOUT));
	tr_fill(buf, len, seed + 1);
	ASSERT_EQ(len, tr_send_all(b, buf, len, TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(a, buf, len, TR_RETRANS_TIMEOUT));
	free(buf);
	quiesce(_metadata, a, b);
}

/* Dump in origin, move the address, restore in target: the freeze recipe */
static void migrate(struct __test_metadata *_metadata,
		    struct _test_data_freeze *self, const struct tr_dump *d,
		    int off_mode)
{
	ASSERT_EQ(0, tr_topo_isolate_origin(&self->topo));
	ASSERT_EQ(0, close(self->origin));
	self->origin = -1;
	ASSERT_EQ(0, tr_topo_move_service(&self->topo));
	self->target = tr_restore(self->topo.ns[TR_TARGET], d, off_mode);
	ASSERT_LE(0, self->target);
	ASSERT_EQ(0, tr_topo_switch_peer(&self->topo));
}

/*
 * The peer sends one segment's worth (under any MSS, so one transmission
 * is one skb, GSO or not) to @frozen in repair mode: none of it may be
 * acknowledged or queued, each transmission is one SOCKET_REPAIR drop, and
 * after repair mode the peer's retransmission delivers it.
 */
static void data_freeze(struct __test_metadata *_metadata,
			struct _test_data_freeze *self, int frozen)
{
	struct counts c0, c1;
	struct snap s0, s1;
	char data[1000];

	tr_fill(data, sizeof(data), 1);
	ASSERT_EQ(0, tr_repair(frozen, TCP_REPAIR_ON));
	ASSERT_EQ(0, snap_take(frozen, &s0));
	ASSERT_EQ(0, counts_read(self, frozen, self->peer, &c0));

	ASSERT_EQ(sizeof(data), tr_send_all(self->peer, data, sizeof(data),
					    TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, wait_arrival(frozen, &s0, c0.drops, self->peer,
				  sizeof(data), TR_ARRIVAL_TIMEOUT))
		TH_LOG("the data never reached the socket");
	ASSERT_EQ(0, counts_settle(self, frozen, self->peer, &c1));
	ASSERT_EQ(0, snap_take(frozen, &s1));

	EXPECT_EQ((int)sizeof(data), tr_outq(self->peer))
		TH_LOG("the socket in repair mode acknowledged data");
	expect_unchanged(_metadata, &s0, &s1);
	expect_silent(_metadata, &s0, &s1);
	ASSERT_LT(c0.segs, c1.segs);
	expect_drops(_metadata, self, &c0, &c1, c1.segs - c0.segs);

	ASSERT_EQ(0, tr_repair(frozen, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_expect_data(frozen, data, sizeof(data),
				    TR_RETRANS_TIMEOUT))
		TH_LOG("the peer's retransmission was not delivered");
	ASSERT_EQ(0, tr_wait_outq(self->peer, 0, TR_RETRANS_TIMEOUT));
	EXPECT_EQ(TR_ESTABLISHED, tr_tcp_state(frozen));
}

TEST_F_TIMEOUT(freeze, data_during_repair, TEST_TIMEOUT)
{
	data_freeze(_metadata, self, self->origin);
}

TEST_F_TIMEOUT(freeze, fin_during_repair, TEST_TIMEOUT)
{
	struct counts c0, c1;
	struct snap s0, s1;

	ASSERT_EQ(0, tr_repair(self->origin, TCP_REPAIR_ON));
	ASSERT_EQ(0, snap_take(self->origin, &s0));
	ASSERT_EQ(0, counts_read(self, self->origin, self->peer, &c0));

	ASSERT_EQ(0, shutdown(self->peer, SHUT_WR));
	/* The FIN takes one sequence number: SIOCOUTQ is 1 until acked */
	ASSERT_EQ(0, wait_arrival(self->origin, &s0, c0.drops, self->peer, 1,
				  TR_ARRIVAL_TIMEOUT))
		TH_LOG("the FIN never reached the socket");
	ASSERT_EQ(0, counts_settle(self, self->origin, self->peer, &c1));
	ASSERT_EQ(0, snap_take(self->origin, &s1));

	EXPECT_STREQ("ESTABLISHED", tr_state_str(s1.state));
	EXPECT_EQ(1, tr_outq(self->peer)) TH_LOG("the FIN was acknowledged");
	EXPECT_STREQ("FIN_WAIT1", tr_state_str(tr_tcp_state(self->peer)));
	expect_unchanged(_metadata, &s0, &s1);
	expect_silent(_metadata, &s0, &s1);
	ASSERT_LT(c0.segs, c1.segs);
	expect_drops(_metadata, self, &c0, &c1, c1.segs - c0.segs);

	ASSERT_EQ(0, tr_repair(self->origin, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_wait_state(self->origin, TR_CLOSE_WAIT,
				   TR_RETRANS_TIMEOUT))
		TH_LOG("the retransmitted FIN was not processed");
	EXPECT_EQ(0, tr_recv_eof(self->origin, TR_ARRIVAL_TIMEOUT));
	EXPECT_EQ(0, tr_wait_state(self->peer, TR_FIN_WAIT2,
				   TR_ARRIVAL_TIMEOUT));
}

TEST_F_TIMEOUT(freeze, rst_during_repair, TEST_TIMEOUT)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct counts c0, c1;
	struct snap s0, s1;

	ASSERT_EQ(0, tr_repair(self->origin, TCP_REPAIR_ON));
	ASSERT_EQ(0, snap_take(self->origin, &s0));
	ASSERT_EQ(0, counts_read(self, self->origin, -1, &c0));

	/* An abortive close: one RST at exactly rcv_nxt, never repeated */
	ASSERT_EQ(0, setsockopt(self->peer, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	ASSERT_EQ(0, close(self->peer));
	self->peer = -1;
	ASSERT_EQ(0, wait_arrival(self->origin, &s0, c0.drops, -1, 0,
				  TR_ARRIVAL_TIMEOUT))
		TH_LOG("the RST never reached the socket");
	ASSERT_EQ(0, counts_settle(self, self->origin, -1, &c1));
	ASSERT_EQ(0, snap_take(self->origin, &s1));

	EXPECT_STREQ("ESTABLISHED", tr_state_str(s1.state))
		TH_LOG("the RST reset the socket in repair mode");
	EXPECT_EQ(0, tr_sock_error(self->origin));
	expect_unchanged(_metadata, &s0, &s1);
	expect_silent(_metadata, &s0, &s1);
	expect_drops(_metadata, self, &c0, &c1, 1);

	/* Out of repair, its window probe draws a RST from the peer's host */
	ASSERT_EQ(0, tr_repair(self->origin, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_wait_state(self->origin, TR_CLOSE, TR_RETRANS_TIMEOUT));
	EXPECT_EQ(-ECONNRESET, tr_recv_eof(self->origin, TR_ARRIVAL_TIMEOUT));
}

TEST_F_TIMEOUT(freeze, ack_during_repair, TEST_TIMEOUT)
{
	struct counts c0, c1;
	struct snap s0, s1;
	char data[1000];

	/*
	 * Origin's data is lost on the way out, so it stays unacknowledged
	 * and the peer, which got nothing, stays silent.
	 */
	tr_fill(data, sizeof(data), 3);
	ASSERT_EQ(0, tr_topo_block(&self->topo, TR_ORIGIN, true));
	ASSERT_EQ(sizeof(data), tr_send_all(self->origin, data, sizeof(data),
					    TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ((int)sizeof(data), tr_outq(self->origin));

	ASSERT_EQ(0, tr_repair(self->origin, TCP_REPAIR_ON));
	ASSERT_EQ(0, snap_take(self->origin, &s0));
	ASSERT_EQ(0, counts_read(self, self->origin, self->peer, &c0));

	/*
	 * Origin retransmits (timers run in repair mode too), the peer now
	 * gets the data and acknowledges it to the frozen socket.
	 */
	ASSERT_EQ(0, tr_topo_block(&self->topo, TR_ORIGIN, false));
	ASSERT_EQ(0, wait_arrival(self->origin, &s0, c0.drops, -1, 0,
				  TR_RETRANS_TIMEOUT))
		TH_LOG("no acknowledgment reached the socket");
	ASSERT_EQ(0, counts_settle(self, self->origin, self->peer, &c1));
	ASSERT_EQ(0, snap_take(self->origin, &s1));

	EXPECT_EQ((int)sizeof(data), s1.outq)
		TH_LOG("the socket in repair mode processed an ACK");
	expect_unchanged(_metadata, &s0, &s1);
	expect_silent(_metadata, &s0, &s1);
	EXPECT_EQ((int)sizeof(data), tr_inq(self->peer));
	ASSERT_LT(c0.segs, c1.segs);
	expect_drops(_metadata, self, &c0, &c1, c1.segs - c0.segs);

	ASSERT_EQ(0, tr_repair(self->origin, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_wait_outq(self->origin, 0, TR_RETRANS_TIMEOUT))
		TH_LOG("the data was never acknowledged after repair mode");
	ASSERT_EQ(0, tr_expect_data(self->peer, data, sizeof(data),
				    TR_ARRIVAL_TIMEOUT));
	EXPECT_EQ(TR_ESTABLISHED, tr_tcp_state(self->origin));
}

/*
 * The peer sends after the dump read the queues: a kernel that does not
 * freeze acknowledges those bytes from the old socket, and the restored
 * one waits for them forever.
 */
TEST_F_TIMEOUT(freeze, dump_window_race, TEST_TIMEOUT)
{
	char queued[3000], late[20000];
	struct tr_dump d;
	struct snap s0;
	int64_t drops0;

	tr_fill(queued, sizeof(queued), 4);
	tr_fill(late, sizeof(late), 5);

	/* Unread data, so that the receive queue is part of the image */
	ASSERT_EQ(sizeof(queued), tr_send_all(self->peer, queued,
					      sizeof(queued),
					      TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_wait_inq(self->origin, sizeof(queued),
				 TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_outq(self->peer, 0, TR_RETRANS_TIMEOUT));

	ASSERT_EQ(0, tr_dump(self->origin, &d));
	ASSERT_EQ(sizeof(queued), d.rcvq_len);
	ASSERT_EQ(0, snap_take(self->origin, &s0));
	drops0 = tr_drops(self->origin);

	ASSERT_EQ(sizeof(late), tr_send_all(self->peer, late, sizeof(late),
					    TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, wait_arrival(self->origin, &s0, drops0, self->peer,
				  sizeof(late), TR_ARRIVAL_TIMEOUT))
		TH_LOG("the late data never reached the socket");

	migrate(_metadata, self, &d, TCP_REPAIR_OFF);
	ASSERT_EQ(0, tr_expect_data(self->target, queued, sizeof(queued),
				    TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(self->target, late, sizeof(late),
				    TR_RETRANS_TIMEOUT))
		TH_LOG("bytes sent during the dump were lost");
	EXPECT_EQ(TR_ESTABLISHED, tr_tcp_state(self->target));
	exchange(_metadata, self->peer, self->target, 7000, 6);
	tr_dump_free(&d);
}

/*
 * libsoccr's CLOSE_WAIT restore with unsent data: the socket is rebuilt
 * one byte short of the peer's FIN, repair is turned off to write the
 * unsent bytes and on again, the window is restored and the FIN injected
 * while the socket is still in repair mode. It must be accepted.
 */
TEST_F_TIMEOUT(freeze, closewait_libsoccr_restore, TEST_TIMEOUT)
{
	char from_peer[3000], from_origin[65536];
	struct sockaddr_storage src, dst;
	int sndbuf = 1 << 20, unsent;
	struct tr_dump d;
	struct tr_seg fin;

	tr_fill(from_peer, sizeof(from_peer), 7);
	tr_fill(from_origin, sizeof(from_origin), 8);

	/* The peer sends data and its FIN; both are acknowledged */
	ASSERT_EQ(sizeof(from_peer), tr_send_all(self->peer, from_peer,
						 sizeof(from_peer),
						 TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, shutdown(self->peer, SHUT_WR));
	ASSERT_EQ(0, tr_wait_state(self->origin, TR_CLOSE_WAIT,
				   TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_state(self->peer, TR_FIN_WAIT2,
				   TR_RETRANS_TIMEOUT));
	ASSERT_EQ((int)sizeof(from_peer), tr_inq(self->origin));

	/*
	 * Origin's data is lost on the way out: the initial congestion window
	 * goes (unacked), the rest waits (unsent).
	 */
	ASSERT_EQ(0, setsockopt(self->origin, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				sizeof(sndbuf)));
	ASSERT_EQ(0, tr_topo_block(&self->topo, TR_ORIGIN, true));
	ASSERT_EQ(sizeof(from_origin),
		  tr_send_all(self->origin, from_origin, sizeof(from_origin),
			      TR_ARRIVAL_TIMEOUT));
	unsent = tr_outq_nsd(self->origin);
	ASSERT_LT(0, unsent);
	ASSERT_GT((int)sizeof(from_origin), unsent);

	ASSERT_EQ(0, tr_dump(self->origin, &d));
	ASSERT_STREQ("CLOSE_WAIT", tr_state_str(d.state));
	ASSERT_EQ(sizeof(from_peer), d.rcvq_len);
	ASSERT_EQ(sizeof(from_origin), d.sndq_len);
	ASSERT_LT(0, d.unsent_len);
	ASSERT_GT(d.sndq_len, d.unsent_len);

	ASSERT_EQ(0, tr_topo_isolate_origin(&self->topo));
	ASSERT_EQ(0, close(self->origin));
	self->origin = -1;
	ASSERT_EQ(0, tr_topo_move_service(&self->topo));

	/* rcv_nxt covers the FIN: rebuild without it, then inject it */
	d.rcv_seq--;
	self->target = tr_restore_sock(self->topo.ns[TR_TARGET], &d);
	ASSERT_LE(0, self->target);
	ASSERT_EQ(0, tr_repair(self->target, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_restore_unsent(self->target, &d));
	ASSERT_EQ(0, tr_repair(self->target, TCP_REPAIR_ON));
	ASSERT_EQ(0, tr_restore_window(self->target, &d));

	memset(&fin, 0, sizeof(fin));
	fin.seq = d.rcv_seq;
	fin.ack = tr_dump_snd_una(&d);
	fin.win = d.wnd.snd_wnd >> d.snd_wscale;
	fin.flags = TR_FIN | TR_ACK;
	src = d.peer;
	dst = d.self;
	ASSERT_EQ(0, tr_inject(self->topo.ns[TR_TARGET], &src, &dst, &fin));
	ASSERT_EQ(0, tr_wait_state(self->target, TR_CLOSE_WAIT,
				   TR_ARRIVAL_TIMEOUT))
		TH_LOG("the injected FIN was not accepted by the rebuilt socket");

	ASSERT_EQ(0, tr_repair(self->target, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_topo_switch_peer(&self->topo));
	EXPECT_STREQ("CLOSE_WAIT", tr_state_str(tr_tcp_state(self->target)));

	ASSERT_EQ(0, tr_expect_data(self->target, from_peer, sizeof(from_peer),
				    TR_ARRIVAL_TIMEOUT));
	EXPECT_EQ(0, tr_recv_eof(self->target, TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(self->peer, from_origin,
				    sizeof(from_origin), TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_outq(self->target, 0, TR_RETRANS_TIMEOUT));

	/* An orderly end: the peer sees our FIN, nobody sees a RST */
	ASSERT_EQ(0, close(self->target));
	self->target = -1;
	EXPECT_EQ(0, tr_recv_eof(self->peer, TR_RETRANS_TIMEOUT));
	EXPECT_EQ(0, tr_sock_error(self->peer));
	tr_dump_free(&d);
}

/*
 * A restored socket that went live (window restored, repair off) is
 * frozen like any other on its next dump.
 */
TEST_F_TIMEOUT(freeze, refreeze_after_restore, TEST_TIMEOUT)
{
	struct tr_dump d;

	exchange(_metadata, self->peer, self->origin, 2000, 9);
	ASSERT_EQ(0, tr_dump(self->origin, &d));
	migrate(_metadata, self, &d, TCP_REPAIR_OFF);
	exchange(_metadata, self->peer, self->target, 3000, 10);
	data_freeze(_metadata, self, self->target);
	tr_dump_free(&d);
}

/*
 * Garbage for a frozen socket. None of it is accepted by a socket outside
 * repair mode either, so nothing may change on any kernel.
 */
static const struct garbage {
	const char *name;
	int32_t seq;			/* relative to rcv_nxt */
	int32_t ack;			/* relative to snd_nxt */
	uint8_t flags;
	uint16_t urg;
	size_t len;
	bool bad_csum;
} garbage[] = {
	{ "SYN|FIN",			0, 0, TR_SYN | TR_FIN },
	{ "SYN in window",		0, 0, TR_SYN },
	{ "no flags, data",		0, 0, 0, 0, 100 },
	{ "URG only, data",		0, 0, TR_URG, 1, 100 },
	{ "data beyond the window",	0x40000000, 0, TR_ACK | TR_PSH, 0, 200 },
	{ "old data",			-0x40000000, 0, TR_ACK | TR_PSH, 0, 200 },
	{ "window probe",		-1, 0, TR_ACK },
	{ "ACK of unsent data",		0, 0x10000, TR_ACK },
	{ "RST beyond the window",	0x40000000, 0, TR_RST },
	{ "RST in window, not exact",	1, 0, TR_RST | TR_ACK },
	{ "bad checksum, data",		0, 0, TR_ACK | TR_PSH, 0, 100, true },
};

/* Wait until @frozen dropped one more segment, or TCP one more checksum */
static bool wait_dropped(struct _test_data_freeze *self, int64_t drops0,
			 long csum0, bool bad_csum)
{
	int64_t deadline = tr_now_ms() + TR_ARRIVAL_TIMEOUT;

	do {
		if (bad_csum && tr_snmp_tcp(self->topo.ns[TR_ORIGIN],
					    "InCsumErrors") > csum0)
			return true;
		if (!bad_csum && tr_drops(self->origin) > drops0)
			return true;
		tr_msleep(1);
	} while (tr_now_ms() < deadline);
	return false;
}

TEST_F_TIMEOUT(freeze, garbage_to_frozen, TEST_TIMEOUT)
{
	struct sockaddr_storage src, dst;
	uint32_t rcv_nxt, snd_nxt;
	unsigned char rnd[4][64];
	char payload[200];
	struct snap s0, s1;
	struct tr_seg seg;
	int64_t drops0;
	unsigned int i;
	socklen_t len;
	long csum0;

	exchange(_metadata, self->peer, self->origin, 2000, 11);
	len = sizeof(src);
	ASSERT_EQ(0, getsockname(self->peer, (struct sockaddr *)&src, &len));
	len = sizeof(dst);
	ASSERT_EQ(0, getsockname(self->origin, (struct sockaddr *)&dst, &len));

	ASSERT_EQ(0, tr_repair(self->origin, TCP_REPAIR_ON));
	ASSERT_EQ(0, snap_take(self->origin, &s0));
	rcv_nxt = s0.rcv_seq;
	snd_nxt = s0.snd_seq - s0.nsd;
	tr_fill(payload, sizeof(payload), 12);
	tr_fill(rnd, sizeof(rnd), 13);

	/* Injected in origin: delivered over lo, checksum verified */
	for (i = 0; i < ARRAY_SIZE(garbage); i++) {
		const struct garbage *g = &garbage[i];

		memset(&seg, 0, sizeof(seg));
		seg.seq = rcv_nxt + g->seq;
		seg.ack = snd_nxt + g->ack;
		seg.win = 512;
		seg.flags = g->flags;
		seg.urg = g->urg;
		seg.data = payload;
		seg.len = g->len;
		seg.bad_csum = g->bad_csum;

		drops0 = tr_drops(self->origin);
		csum0 = tr_snmp_tcp(self->topo.ns[TR_ORIGIN], "InCsumErrors");
		ASSERT_LE(0, csum0);
		ASSERT_EQ(0, tr_inject(self->topo.ns[TR_ORIGIN], &src, &dst,
				       &seg))
			TH_LOG("injecting \"%s\"", g->name);
		ASSERT_TRUE(wait_dropped(self, drops0, csum0, g->bad_csum))
			TH_LOG("\"%s\" was never dropped", g->name);
	}

	/* Random headers and payloads, far outside the window */
	for (i = 0; i < 4; i++) {
		memset(&seg, 0, sizeof(seg));
		seg.seq = rcv_nxt + 0x40000000 + (rnd[i][0] << 16);
		seg.ack = (rnd[i][1] << 24) | (rnd[i][2] << 8);
		seg.win = (rnd[i][3] << 8) | rnd[i][4];
		seg.urg = rnd[i][5];
		seg.flags = rnd[i][6];
		seg.data = &rnd[i][8];
		seg.len = 1 + rnd[i][7] % 56;

		drops0 = tr_drops(self->origin);
		ASSERT_EQ(0, tr_inject(self->topo.ns[TR_ORIGIN], &src, &dst,
				       &seg));
		ASSERT_TRUE(wait_dropped(self, drops0, 0, false))
			TH_LOG("random segment %u (flags 0x%02x) was never dropped",
			       i, seg.flags);
	}

	ASSERT_EQ(0, snap_take(self->origin, &s1));
	expect_unchanged(_metadata, &s0, &s1);
	/* A socket outside repair mode answers some with (challenge) ACKs */
	TH_LOG("%u ACK/RST segments sent by the frozen socket",
	       s1.ctl_out - s0.ctl_out);
	if (self->tracing)
		TH_LOG("%ld SOCKET_REPAIR drops reported",
		       tr_trace_count(&self->trace));

	ASSERT_EQ(0, tr_repair(self->origin, TCP_REPAIR_OFF));
	exchange(_metadata, self->peer, self->origin, 5000, 14);
	EXPECT_EQ(TR_ESTABLISHED, tr_tcp_state(self->origin));
	EXPECT_EQ(TR_ESTABLISHED, tr_tcp_state(self->peer));
}

/*
 * Random segments for a frozen socket, for the whole header: flags and
 * reserved bits, sequence and acknowledgment numbers (mostly around the
 * window, where a socket outside repair mode would act on them), window,
 * urgent pointer, options and payload. The checksum is right, so each one
 * reaches the socket and is dropped there: with reason SOCKET_REPAIR, or
 * TCP_FLAGS when it has none of ACK, RST and SYN (TCP rejects those before
 * looking at the connection). TR_FUZZ_SEED=<n> replays a run.
 */
#define FUZZ_SEGS	5000
#define FUZZ_TIME_MS	30000

static uint32_t fuzz_next(uint32_t *x)
{
	/* xorshift32: small, and the same sequence everywhere */
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/*
 * Options as TCP parses them: known and unknown kinds with right lengths,
 * now and then a wrong length, which ends parsing. Never the TCP-MD5 (19)
 * or TCP-AO (29) kinds: a kernel with those configured drops a segment
 * carrying one earlier, because the socket has no key.
 */
static size_t fuzz_options(uint32_t *x, uint8_t *opt)
{
	static const uint8_t sizes[] = { 4, 3, 2, 10 };
	size_t len = 0, room, want = fuzz_next(x) % (TR_OPT_MAX / 4 + 1) * 4;
	uint8_t kind, size;

	while (len < want) {
		room = want - len;
		switch (fuzz_next(x) % 8) {
		case 0:
			opt[len++] = 1;				/* NOP */
			continue;
		case 1:
			kind = 5;				/* SACK */
			size = 2 + 8 * (1 + fuzz_next(x) % 4);
			break;
		case 2:
			kind = 0;				/* EOL */
			size = 1;
			break;
		case 3:
			/* an unknown kind, or MPTCP, TFO, experimental */
			do {
				kind = 6 + fuzz_next(x) % 250;
			} while (kind == 8 || kind == 19 || kind == 29);
			size = 2 + fuzz_next(x) % 12;
			break;
		default:
			/* MSS, window scale, SACK permitted, timestamps */
			size = fuzz_next(x) % 4;
			kind = size == 3 ? 8 : 2 + size;
			size = sizes[size];
			break;
		}
		if (!(fuzz_next(x) % 16))
			size = fuzz_next(x) % 2 ? 0 : room + 1;	/* malformed */
		if (size > room || size < 2) {
			/* ends parsing: the rest is never looked at */
			opt[len++] = kind;
			if (len < want)
				opt[len++] = size;
			while (len < want)
				opt[len++] = fuzz_next(x);
			break;
		}
		opt[len] = kind;
		opt[len + 1] = size;
		for (kind = 2; kind < size; kind++)
			opt[len + kind] = fuzz_next(x);
		len += size;
	}
	return want;
}

static void fuzz_seg(uint32_t *x, const struct snap *s, struct tr_seg *seg,
		     uint8_t *opt)
{
	uint32_t snd_una = s->snd_seq - s->outq, r = fuzz_next(x);

	memset(seg, 0, sizeof(*seg));
	seg->flags = fuzz_next(x);
	seg->res = fuzz_next(x) % 16;
	switch (r % 4) {
	case 0:		/* anywhere */
		seg->seq = fuzz_next(x);
		seg->ack = fuzz_next(x);
		break;
	case 1:		/* exactly what the socket expects */
		seg->seq = s->rcv_seq;
		seg->ack = snd_una + fuzz_next(x) % (s->outq + 1);
		break;
	default:	/* around the window edges */
		seg->seq = s->rcv_seq + fuzz_next(x) % (s->wnd.rcv_wnd + 2) - 1;
		seg->ack = snd_una + fuzz_next(x) % 3 - 1;
		break;
	}
	seg->win = fuzz_next(x);
	seg->urg = fuzz_next(x) % 4 ? 0 : fuzz_next(x);
	seg->opts = opt;
	seg->optlen = fuzz_options(x, opt);
	seg->len = fuzz_next(x) % 3 ? 0 : 1 + fuzz_next(x) % 1400;
}

TEST_F_TIMEOUT(freeze, fuzz_frozen, TEST_TIMEOUT)
{
	uint32_t seed = variant->family == AF_INET ? 0x5eed0004 : 0x5eed0006;
	long sent = 0, expect_repair = 0;
	struct sockaddr_storage src, dst;
	uint8_t opt[TR_OPT_MAX];
	static char payload[1400];
	struct counts c0, c1;
	struct snap s0, s1;
	int64_t deadline;
	struct tr_seg seg;
	const char *env;
	socklen_t len;
	uint32_t x;

	env = getenv("TR_FUZZ_SEED");
	if (env)
		seed = strtoul(env, NULL, 0) ?: 1;
	TH_LOG("seed 0x%08x (TR_FUZZ_SEED replays it)", seed);
	x = seed;
	tr_fill(payload, sizeof(payload), seed);

	exchange(_metadata, self->peer, self->origin, 3000, 15);

	len = sizeof(src);
	ASSERT_EQ(0, getsockname(self->peer, (struct sockaddr *)&src, &len));
	len = sizeof(dst);
	ASSERT_EQ(0, getsockname(self->origin, (struct sockaddr *)&dst, &len));

	ASSERT_EQ(0, tr_repair(self->origin, TCP_REPAIR_ON));
	ASSERT_EQ(0, snap_take(self->origin, &s0));
	ASSERT_EQ(0, counts_settle(self, self->origin, -1, &c0));

	deadline = tr_now_ms() + FUZZ_TIME_MS;
	while (sent < FUZZ_SEGS && tr_now_ms() < deadline) {
		fuzz_seg(&x, &s0, &seg, opt);
		seg.data = payload;
		ASSERT_EQ(0, tr_inject(self->topo.ns[TR_ORIGIN], &src, &dst,
				       &seg))
			TH_LOG("segment %ld", sent);
		sent++;
		if (seg.flags & (TR_ACK | TR_RST | TR_SYN))
			expect_repair++;
	}
	TH_LOG("%ld segments, %ld with ACK, RST or SYN", sent, expect_repair);

	deadline = tr_now_ms() + TR_ARRIVAL_TIMEOUT;
	while (tr_drops(self->origin) < c0.drops + sent &&
	       tr_now_ms() < deadline)
		tr_msleep(5);
	ASSERT_EQ(0, counts_settle(self, self->origin, -1, &c1));
	ASSERT_EQ(0, snap_take(self->origin, &s1));

	expect_unchanged(_metadata, &s0, &s1);
	expect_silent(_metadata, &s0, &s1);
	EXPECT_EQ(sent, c1.drops - c0.drops)
		TH_LOG("every segment must be dropped by the frozen socket");
	if (self->tracing)
		EXPECT_EQ(expect_repair, c1.trace - c0.trace)
			TH_LOG("drops with reason SOCKET_REPAIR");

	/* Thawed, the connection carries on */
	ASSERT_EQ(0, tr_repair(self->origin, TCP_REPAIR_OFF));
	exchange(_metadata, self->peer, self->origin, 5000, 16);
	EXPECT_EQ(TR_ESTABLISHED, tr_tcp_state(self->origin));
	EXPECT_EQ(TR_ESTABLISHED, tr_tcp_state(self->peer));
}

TEST_HARNESS_MAIN
