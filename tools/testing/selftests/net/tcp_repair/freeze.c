// SPDX-License-Identifier: GPL-2.0
/*
 * A live TCP socket put in repair mode is being dumped: it must not move.
 * Whatever the peer sends meanwhile (data, FIN, RST, ACK, garbage) is
 * dropped with reason SOCKET_REPAIR, nothing is acknowledged, and the
 * peer's retransmissions deliver it once repair mode is off, on this socket
 * or on its restored copy. A socket being rebuilt (connected in repair
 * mode) still accepts the segments restore tools inject.
 *
 * Topology (lib/topo.c): peer <-> origin, peer <-> target, the service
 * address moving from origin to target. fuzz.c, a program of its own with
 * this fixture (and so these test names), sends random segments.
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
	struct tr_env env;
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

/*
 * One topology per family for all the tests, made before the harness forks
 * them; each test gets it back reset (lib/env.c)
 */
static void __attribute__((constructor)) share_topologies(void)
{
	tr_env_share(AF_INET, 0);
	tr_env_share(AF_INET6, 0);
}

FIXTURE_SETUP(freeze)
{
	int err = tr_env_init(&self->env, variant->family,
			      TR_ENV_PAIR | TR_ENV_TRACE);

	if (tr_skip_reason(err))
		SKIP(return, "%s", tr_skip_reason(err));
	ASSERT_EQ(0, err);
}

FIXTURE_TEARDOWN(freeze)
{
	tr_env_fini(&self->env);
}

/* Every segment that reached the frozen socket was dropped and reported */
static void expect_drops(struct __test_metadata *_metadata,
			 const struct tr_env *e, const struct tr_counts *c0,
			 const struct tr_counts *c1, int64_t segs)
{
	EXPECT_EQ(segs, c1->drops - c0->drops)
		TH_LOG("SK_MEMINFO_DROPS must count each dropped segment");
	if (!e->tracing) {
		TH_LOG("no tracefs: skb:kfree_skb check skipped");
		return;
	}
	EXPECT_EQ(segs, c1->trace - c0->trace)
		TH_LOG("skb:kfree_skb must report each one with reason SOCKET_REPAIR");
}

/*
 * Nothing changed, and the frozen socket sent nothing of its own: no ACK,
 * duplicate or challenge ACK, no RST (freeze_output.c checks that no data
 * leaves either).
 */
static void expect_frozen(struct __test_metadata *_metadata,
			  const struct tr_snap *a, const struct tr_snap *b)
{
	EXPECT_EQ(0, tr_snap_diff(a, b));
	EXPECT_EQ(a->ctl_out, b->ctl_out)
		TH_LOG("the socket in repair mode sent %u ACK/RST segments",
		       b->ctl_out - a->ctl_out);
}

/*
 * The peer sends one segment's worth (under any MSS, so one transmission
 * is one skb, GSO or not) to @frozen in repair mode: none of it may be
 * acknowledged or queued, each transmission is one SOCKET_REPAIR drop, and
 * after repair mode the peer's retransmission delivers it.
 */
static void data_freeze(struct __test_metadata *_metadata,
			struct tr_env *e, int frozen)
{
	struct tr_counts c0, c1;
	struct tr_snap s0, s1;
	char data[1000];

	tr_fill(data, sizeof(data), 1);
	ASSERT_EQ(0, tr_repair(frozen, TCP_REPAIR_ON));
	ASSERT_EQ(0, tr_snap_take(frozen, &s0));
	ASSERT_EQ(0, tr_counts_read(e, frozen, e->peer, &c0));

	ASSERT_EQ(sizeof(data), tr_send_all(e->peer, data, sizeof(data),
					    TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_wait_arrival(frozen, &s0, c0.drops, e->peer,
				     sizeof(data), TR_ARRIVAL_TIMEOUT))
		TH_LOG("the data never reached the socket");
	ASSERT_EQ(0, tr_counts_settle(e, frozen, e->peer, &c1));
	ASSERT_EQ(0, tr_snap_take(frozen, &s1));

	EXPECT_EQ((int)sizeof(data), tr_outq(e->peer))
		TH_LOG("the socket in repair mode acknowledged data");
	expect_frozen(_metadata, &s0, &s1);
	ASSERT_LT(c0.segs, c1.segs);
	expect_drops(_metadata, e, &c0, &c1, c1.segs - c0.segs);

	ASSERT_EQ(0, tr_repair(frozen, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_expect_data(frozen, data, sizeof(data),
				    TR_RETRANS_TIMEOUT))
		TH_LOG("the peer's retransmission was not delivered");
	ASSERT_EQ(0, tr_wait_outq(e->peer, 0, TR_RETRANS_TIMEOUT));
	EXPECT_EQ(TR_ESTABLISHED, tr_tcp_state(frozen));
}

TEST_F_TIMEOUT(freeze, data_during_repair, TEST_TIMEOUT)
{
	data_freeze(_metadata, &self->env, self->env.origin);
}

TEST_F_TIMEOUT(freeze, fin_during_repair, TEST_TIMEOUT)
{
	struct tr_env *e = &self->env;
	struct tr_counts c0, c1;
	struct tr_snap s0, s1;

	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_ON));
	ASSERT_EQ(0, tr_snap_take(e->origin, &s0));
	ASSERT_EQ(0, tr_counts_read(e, e->origin, e->peer, &c0));

	ASSERT_EQ(0, shutdown(e->peer, SHUT_WR));
	/* The FIN takes one sequence number: SIOCOUTQ is 1 until acked */
	ASSERT_EQ(0, tr_wait_arrival(e->origin, &s0, c0.drops, e->peer, 1,
				     TR_ARRIVAL_TIMEOUT))
		TH_LOG("the FIN never reached the socket");
	ASSERT_EQ(0, tr_counts_settle(e, e->origin, e->peer, &c1));
	ASSERT_EQ(0, tr_snap_take(e->origin, &s1));

	EXPECT_STREQ("ESTABLISHED", tr_state_str(s1.state));
	EXPECT_EQ(1, tr_outq(e->peer)) TH_LOG("the FIN was acknowledged");
	EXPECT_STREQ("FIN_WAIT1", tr_state_str(tr_tcp_state(e->peer)));
	expect_frozen(_metadata, &s0, &s1);
	ASSERT_LT(c0.segs, c1.segs);
	expect_drops(_metadata, e, &c0, &c1, c1.segs - c0.segs);

	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_wait_state(e->origin, TR_CLOSE_WAIT,
				   TR_RETRANS_TIMEOUT))
		TH_LOG("the retransmitted FIN was not processed");
	EXPECT_EQ(0, tr_recv_eof(e->origin, TR_ARRIVAL_TIMEOUT));
	EXPECT_EQ(0, tr_wait_state(e->peer, TR_FIN_WAIT2,
				   TR_ARRIVAL_TIMEOUT));
}

TEST_F_TIMEOUT(freeze, rst_during_repair, TEST_TIMEOUT)
{
	struct tr_env *e = &self->env;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct tr_counts c0, c1;
	struct tr_snap s0, s1;

	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_ON));
	ASSERT_EQ(0, tr_snap_take(e->origin, &s0));
	ASSERT_EQ(0, tr_counts_read(e, e->origin, -1, &c0));

	/* An abortive close: one RST at exactly rcv_nxt, never repeated */
	ASSERT_EQ(0, setsockopt(e->peer, SOL_SOCKET, SO_LINGER, &lg,
				sizeof(lg)));
	ASSERT_EQ(0, close(e->peer));
	e->peer = -1;
	ASSERT_EQ(0, tr_wait_arrival(e->origin, &s0, c0.drops, -1, 0,
				     TR_ARRIVAL_TIMEOUT))
		TH_LOG("the RST never reached the socket");
	ASSERT_EQ(0, tr_counts_settle(e, e->origin, -1, &c1));
	ASSERT_EQ(0, tr_snap_take(e->origin, &s1));

	EXPECT_STREQ("ESTABLISHED", tr_state_str(s1.state))
		TH_LOG("the RST reset the socket in repair mode");
	EXPECT_EQ(0, tr_sock_error(e->origin));
	expect_frozen(_metadata, &s0, &s1);
	expect_drops(_metadata, e, &c0, &c1, 1);

	/* Out of repair, its window probe draws a RST from the peer's host */
	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_wait_state(e->origin, TR_CLOSE, TR_RETRANS_TIMEOUT));
	EXPECT_EQ(-ECONNRESET, tr_recv_eof(e->origin, TR_ARRIVAL_TIMEOUT));
}

TEST_F_TIMEOUT(freeze, ack_during_repair, TEST_TIMEOUT)
{
	struct tr_env *e = &self->env;
	struct sockaddr_storage src, dst;
	struct tr_counts c0, c1;
	struct tr_snap s0, s1;
	struct tr_seg ack;
	char data[1000];
	socklen_t len;

	/*
	 * The peer gets origin's data, but its ACK is lost on the way back:
	 * the data stays unacknowledged in origin.
	 */
	tr_fill(data, sizeof(data), 3);
	ASSERT_EQ(0, tr_topo_block(&e->topo, TR_PEER, true));
	ASSERT_EQ(sizeof(data), tr_send_all(e->origin, data, sizeof(data),
					    TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_wait_inq(e->peer, sizeof(data), TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ((int)sizeof(data), tr_outq(e->origin));
	len = sizeof(src);
	ASSERT_EQ(0, getsockname(e->peer, (struct sockaddr *)&src, &len));
	len = sizeof(dst);
	ASSERT_EQ(0, getsockname(e->origin, (struct sockaddr *)&dst, &len));

	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_ON));
	ASSERT_EQ(0, tr_snap_take(e->origin, &s0));
	ASSERT_EQ(0, tr_counts_read(e, e->origin, -1, &c0));

	/*
	 * The frozen socket retransmits nothing that would draw the ACK
	 * again: the peer's pure ACK of the data, at rcv_nxt, is sent by
	 * hand, in origin's namespace.
	 */
	memset(&ack, 0, sizeof(ack));
	ack.seq = s0.rcv_seq;
	ack.ack = s0.snd_seq - s0.nsd;
	ack.win = 512;
	ack.flags = TR_ACK;
	ASSERT_EQ(0, tr_inject(e->topo.ns[TR_ORIGIN], &src, &dst, &ack));
	ASSERT_EQ(0, tr_wait_arrival(e->origin, &s0, c0.drops, -1, 0,
				     TR_ARRIVAL_TIMEOUT))
		TH_LOG("the acknowledgment never reached the socket");
	ASSERT_EQ(0, tr_counts_settle(e, e->origin, -1, &c1));
	ASSERT_EQ(0, tr_snap_take(e->origin, &s1));

	EXPECT_EQ((int)sizeof(data), s1.outq)
		TH_LOG("the socket in repair mode processed an ACK");
	expect_frozen(_metadata, &s0, &s1);
	expect_drops(_metadata, e, &c0, &c1, 1);

	/* Its window probe draws the peer's ACK */
	ASSERT_EQ(0, tr_topo_block(&e->topo, TR_PEER, false));
	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_wait_outq(e->origin, 0, TR_RETRANS_TIMEOUT))
		TH_LOG("the data was never acknowledged after repair mode");
	ASSERT_EQ(0, tr_expect_data(e->peer, data, sizeof(data),
				    TR_ARRIVAL_TIMEOUT));
	EXPECT_EQ(TR_ESTABLISHED, tr_tcp_state(e->origin));
}

/*
 * The peer sends after the dump read the queues: a kernel that does not
 * freeze acknowledges those bytes from the old socket, and the restored
 * one waits for them forever.
 */
TEST_F_TIMEOUT(freeze, dump_window_race, TEST_TIMEOUT)
{
	struct tr_env *e = &self->env;
	char queued[3000], late[20000];
	struct tr_dump d;
	struct tr_snap s0;
	int64_t drops0;

	tr_fill(queued, sizeof(queued), 4);
	tr_fill(late, sizeof(late), 5);

	/* Unread data, so that the receive queue is part of the image */
	ASSERT_EQ(sizeof(queued), tr_send_all(e->peer, queued,
					      sizeof(queued),
					      TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_wait_inq(e->origin, sizeof(queued),
				 TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_outq(e->peer, 0, TR_RETRANS_TIMEOUT));

	ASSERT_EQ(0, tr_dump(e->origin, &d));
	ASSERT_EQ(sizeof(queued), d.rcvq_len);
	ASSERT_EQ(0, tr_snap_take(e->origin, &s0));
	drops0 = tr_drops(e->origin);

	ASSERT_EQ(sizeof(late), tr_send_all(e->peer, late, sizeof(late),
					    TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_wait_arrival(e->origin, &s0, drops0, e->peer,
				     sizeof(late), TR_ARRIVAL_TIMEOUT))
		TH_LOG("the late data never reached the socket");
	/* Acknowledged, it would be in no image, and lost for good */
	ASSERT_EQ((int)sizeof(late), tr_outq(e->peer))
		TH_LOG("the socket being dumped acknowledged the late data");

	ASSERT_EQ(0, tr_env_migrate(e, &d, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_expect_data(e->target, queued, sizeof(queued),
				    TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(e->target, late, sizeof(late),
				    TR_RETRANS_TIMEOUT))
		TH_LOG("bytes sent during the dump were lost");
	EXPECT_EQ(TR_ESTABLISHED, tr_tcp_state(e->target));
	ASSERT_EQ(0, tr_exchange(e->peer, e->target, 7000, 6));
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
	struct tr_env *e = &self->env;
	char from_peer[3000], from_origin[65536];
	struct sockaddr_storage src, dst;
	int sndbuf = 1 << 20, unsent;
	struct tr_dump d;
	struct tr_seg fin;

	tr_fill(from_peer, sizeof(from_peer), 7);
	tr_fill(from_origin, sizeof(from_origin), 8);

	/* The peer sends data and its FIN; both are acknowledged */
	ASSERT_EQ(sizeof(from_peer), tr_send_all(e->peer, from_peer,
						 sizeof(from_peer),
						 TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, shutdown(e->peer, SHUT_WR));
	ASSERT_EQ(0, tr_wait_state(e->origin, TR_CLOSE_WAIT,
				   TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_state(e->peer, TR_FIN_WAIT2,
				   TR_RETRANS_TIMEOUT));
	ASSERT_EQ((int)sizeof(from_peer), tr_inq(e->origin));

	/*
	 * Origin's data is lost on the way out: the initial congestion window
	 * goes (unacked), the rest waits (unsent).
	 */
	ASSERT_EQ(0, setsockopt(e->origin, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				sizeof(sndbuf)));
	ASSERT_EQ(0, tr_topo_block(&e->topo, TR_ORIGIN, true));
	ASSERT_EQ(sizeof(from_origin),
		  tr_send_all(e->origin, from_origin, sizeof(from_origin),
			      TR_ARRIVAL_TIMEOUT));
	unsent = tr_outq_nsd(e->origin);
	ASSERT_LT(0, unsent);
	ASSERT_GT((int)sizeof(from_origin), unsent);

	ASSERT_EQ(0, tr_dump(e->origin, &d));
	ASSERT_STREQ("CLOSE_WAIT", tr_state_str(d.state));
	ASSERT_EQ(sizeof(from_peer), d.rcvq_len);
	ASSERT_EQ(sizeof(from_origin), d.sndq_len);
	ASSERT_LT(0, d.unsent_len);
	ASSERT_GT(d.sndq_len, d.unsent_len);

	ASSERT_EQ(0, tr_env_leave(e));

	/* rcv_nxt covers the FIN: rebuild without it, then inject it */
	d.rcv_seq--;
	e->target = tr_restore_sock(e->topo.ns[TR_TARGET], &d);
	ASSERT_LE(0, e->target);
	ASSERT_EQ(0, tr_repair(e->target, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_restore_unsent(e->target, &d));
	ASSERT_EQ(0, tr_repair(e->target, TCP_REPAIR_ON));
	ASSERT_EQ(0, tr_restore_window(e->target, &d));

	memset(&fin, 0, sizeof(fin));
	fin.seq = d.rcv_seq;
	fin.ack = tr_dump_snd_una(&d);
	fin.win = d.wnd.snd_wnd >> d.snd_wscale;
	fin.flags = TR_FIN | TR_ACK;
	src = d.peer;
	dst = d.self;
	ASSERT_EQ(0, tr_inject_routed(e->topo.ns[TR_TARGET], &src, &dst, &fin));
	ASSERT_EQ(0, tr_wait_state(e->target, TR_CLOSE_WAIT,
				   TR_ARRIVAL_TIMEOUT))
		TH_LOG("the injected FIN was not accepted by the rebuilt socket");

	ASSERT_EQ(0, tr_repair(e->target, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_env_switch(e));
	EXPECT_STREQ("CLOSE_WAIT", tr_state_str(tr_tcp_state(e->target)));

	ASSERT_EQ(0, tr_expect_data(e->target, from_peer, sizeof(from_peer),
				    TR_ARRIVAL_TIMEOUT));
	EXPECT_EQ(0, tr_recv_eof(e->target, TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(e->peer, from_origin,
				    sizeof(from_origin), TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_outq(e->target, 0, TR_RETRANS_TIMEOUT));

	/* An orderly end: the peer sees our FIN, nobody sees a RST */
	ASSERT_EQ(0, close(e->target));
	e->target = -1;
	EXPECT_EQ(0, tr_recv_eof(e->peer, TR_RETRANS_TIMEOUT));
	EXPECT_EQ(0, tr_sock_error(e->peer));
	tr_dump_free(&d);
}

/*
 * A restored socket that went live (window restored, repair off) is
 * frozen like any other on its next dump.
 */
TEST_F_TIMEOUT(freeze, refreeze_after_restore, TEST_TIMEOUT)
{
	struct tr_env *e = &self->env;
	struct tr_dump d;

	ASSERT_EQ(0, tr_exchange(e->peer, e->origin, 2000, 9));
	ASSERT_EQ(0, tr_dump(e->origin, &d));
	ASSERT_EQ(0, tr_env_migrate(e, &d, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_exchange(e->peer, e->target, 3000, 10));
	data_freeze(_metadata, e, e->target);
	tr_dump_free(&d);
}

/*
 * Nothing of the freeze outlives the connection: a frozen socket that is
 * disconnected (connect() with AF_UNSPEC) and listens, still in repair
 * mode, hands out children that process their input like any socket
 * accepted in repair mode. A FIN is the probe: it takes the slow path,
 * where a frozen socket drops it.
 */
TEST_F_TIMEOUT(freeze, listen_after_freeze, TEST_TIMEOUT)
{
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	struct tr_env *e = &self->env;
	int c, a;

	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_ON));
	ASSERT_EQ(0, connect(e->origin, &unspec, sizeof(unspec)));
	if (listen(e->origin, 1)) {
		if (errno == EINVAL)
			SKIP(return, "this kernel refuses listen() after a disconnect");
		ASSERT_EQ(0, -errno);
	}
	ASSERT_EQ(0, tr_connect_to(e->origin, e->topo.ns[TR_PEER], NULL,
				   TR_NONBLOCK, &c, &a));
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	EXPECT_EQ(0, tr_wait_state(a, TR_CLOSE_WAIT, TR_ARRIVAL_TIMEOUT))
		TH_LOG("the child is %s", tr_state_str(tr_tcp_state(a)));

	/* An orderly end, out of repair mode */
	ASSERT_EQ(0, tr_repair(a, TCP_REPAIR_OFF));
	ASSERT_EQ(0, close(a));
	EXPECT_EQ(0, tr_recv_eof(c, TR_ARRIVAL_TIMEOUT));
	EXPECT_EQ(0, tr_sock_error(c));
	ASSERT_EQ(0, close(c));
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
static bool wait_dropped(struct tr_env *e, int64_t drops0,
			 long csum0, bool bad_csum)
{
	int64_t deadline = tr_now_ms() + TR_ARRIVAL_TIMEOUT;

	do {
		if (bad_csum && tr_mib(e->topo.ns[TR_ORIGIN],
				       "TcpInCsumErrors") > csum0)
			return true;
		if (!bad_csum && tr_drops(e->origin) > drops0)
			return true;
		tr_msleep(1);
	} while (tr_now_ms() < deadline);
	return false;
}

TEST_F_TIMEOUT(freeze, garbage_to_frozen, TEST_TIMEOUT)
{
	struct tr_env *e = &self->env;
	struct sockaddr_storage src, dst;
	uint32_t rcv_nxt, snd_nxt;
	unsigned char rnd[4][64];
	char payload[200];
	struct tr_snap s0, s1;
	struct tr_seg seg;
	int64_t drops0;
	unsigned int i;
	socklen_t len;
	long csum0;

	ASSERT_EQ(0, tr_exchange(e->peer, e->origin, 2000, 11));
	len = sizeof(src);
	ASSERT_EQ(0, getsockname(e->peer, (struct sockaddr *)&src, &len));
	len = sizeof(dst);
	ASSERT_EQ(0, getsockname(e->origin, (struct sockaddr *)&dst, &len));

	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_ON));
	ASSERT_EQ(0, tr_snap_take(e->origin, &s0));
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

		drops0 = tr_drops(e->origin);
		csum0 = tr_mib(e->topo.ns[TR_ORIGIN], "TcpInCsumErrors");
		ASSERT_LE(0, csum0);
		ASSERT_EQ(0, tr_inject(e->topo.ns[TR_ORIGIN], &src, &dst,
				       &seg))
			TH_LOG("injecting \"%s\"", g->name);
		ASSERT_TRUE(wait_dropped(e, drops0, csum0, g->bad_csum))
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

		drops0 = tr_drops(e->origin);
		ASSERT_EQ(0, tr_inject(e->topo.ns[TR_ORIGIN], &src, &dst,
				       &seg));
		ASSERT_TRUE(wait_dropped(e, drops0, 0, false))
			TH_LOG("random segment %u (flags 0x%02x) was never dropped",
			       i, seg.flags);
	}

	ASSERT_EQ(0, tr_snap_take(e->origin, &s1));
	EXPECT_EQ(0, tr_snap_diff(&s0, &s1));
	/* A socket outside repair mode answers some with (challenge) ACKs */
	TH_LOG("%u ACK/RST segments sent by the frozen socket",
	       s1.ctl_out - s0.ctl_out);
	if (e->tracing)
		TH_LOG("%ld SOCKET_REPAIR drops reported",
		       tr_trace_count(&e->trace));

	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_exchange(e->peer, e->origin, 5000, 14));
	EXPECT_EQ(TR_ESTABLISHED, tr_tcp_state(e->origin));
	EXPECT_EQ(TR_ESTABLISHED, tr_tcp_state(e->peer));
}

TEST_HARNESS_MAIN
