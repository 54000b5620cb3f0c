// SPDX-License-Identifier: GPL-2.0
/*
 * A socket frozen by TCP_REPAIR sends nothing and no timer acts on it, so
 * that the original of a migrated connection may stay open in repair mode
 * (passt keeps it for as long as it runs) without disturbing its restored
 * copy: no retransmission, probe, delayed ACK, window update or keepalive,
 * no keepalive timeout RST. Leaving repair mode runs what was held back.
 *
 * Lingering originals: the copy is restored in target with the
 * TCP_TIMESTAMP dumped once (as real tools do) a few hundred milliseconds
 * after the dump, while the original keeps its address and its route to
 * the peer, frozen, for several RTOs, or past its keepalive timeout.
 *
 * The waits that check that nothing happens end at the time by which a
 * socket outside repair mode would have acted, with a margin, or as soon
 * as the frozen socket does send something: the test fails then anyway.
 *
 * Topology (lib/topo.c): peer <-> origin, peer <-> target.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "lib/tcp_repair.h"

#define TEST_TIMEOUT	120

/* The copy is restored this long after the original was dumped */
#define RESTORE_DELAY_MS	300

FIXTURE(freeze_output) {
	struct tr_env env;
};

FIXTURE_VARIANT(freeze_output) {
	int family;
};

FIXTURE_VARIANT_ADD(freeze_output, ipv4) {
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(freeze_output, ipv6) {
	.family = AF_INET6,
};

FIXTURE_SETUP(freeze_output)
{
	int err = tr_env_init(&self->env, variant->family, TR_ENV_PAIR);

	if (tr_skip_reason(err))
		SKIP(return, "%s", tr_skip_reason(err));
	ASSERT_EQ(0, err);
}

FIXTURE_TEARDOWN(freeze_output)
{
	tr_env_fini(&self->env);
}

static uint32_t segs_out(int fd)
{
	struct tcp_info ti;

	return tr_tcp_info(fd, &ti) ? 0 : ti.tcpi_segs_out;
}

static uint32_t total_retrans(int fd)
{
	struct tcp_info ti;

	return tr_tcp_info(fd, &ti) ? 0 : ti.tcpi_total_retrans;
}

/* The socket's current RTO, in milliseconds */
static int rto_ms(int fd)
{
	struct tcp_info ti;

	return tr_tcp_info(fd, &ti) ? 1000 : ti.tcpi_rto / 1000;
}

/*
 * Wait until @until (tr_now_ms()), the time by which a socket outside
 * repair mode would have sent something, or until the frozen @fd sends
 * anything after all (@segs its tcpi_segs_out when frozen): the checks
 * that follow fail then, there is nothing more to wait for.
 */
static void frozen_until(int fd, uint32_t segs, int64_t until)
{
	while (tr_now_ms() < until && segs_out(fd) == segs)
		tr_msleep(10);
}

static int keepalive(int fd, int idle, int intvl, int cnt)
{
	return tr_setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE") ?:
	       tr_setsockopt(fd, SOL_TCP, TCP_KEEPIDLE, idle, "TCP_KEEPIDLE") ?:
	       tr_setsockopt(fd, SOL_TCP, TCP_KEEPINTVL, intvl,
			     "TCP_KEEPINTVL") ?:
	       tr_setsockopt(fd, SOL_TCP, TCP_KEEPCNT, cnt, "TCP_KEEPCNT");
}

/*
 * passt's case: the copy takes the connection over in target, restored
 * from the one dump; the original stays open in repair mode in origin,
 * which keeps the service address and its route to the peer. Only the
 * peer's route moves.
 */
static int restore_elsewhere(struct tr_env *e, const struct tr_dump *d)
{
	int err;

	err = tr_topo_copy(&e->topo);
	if (err)
		return err;
	e->target = tr_restore(e->topo.ns[TR_TARGET], d, TCP_REPAIR_OFF);
	if (e->target < 0) {
		err = e->target;
		e->target = -1;
		return err;
	}
	return tr_topo_switch(&e->topo);
}

/*
 * The original holds one segment the peer received but whose ACK never
 * reached it. Frozen, it would retransmit it with backoff, with TSvals of
 * its own clock, ahead of the copy's: the peer would take the first one
 * (it ends at its rcv_wup) and then discard the copy's segments by PAWS.
 */
TEST_F_TIMEOUT(freeze_output, linger_retransmit, TEST_TIMEOUT)
{
	char in_flight[1000], more_out[20000], more_in[5000];
	struct tr_env *e = &self->env;
	int peer_ns = e->topo.ns[TR_PEER];
	long paws_before, paws_after;
	uint32_t frozen_segs;
	struct tr_dump d;
	int linger;

	tr_fill(in_flight, sizeof(in_flight), 1);
	tr_fill(more_out, sizeof(more_out), 2);
	tr_fill(more_in, sizeof(more_in), 3);

	ASSERT_EQ(0, tr_topo_block(&e->topo, TR_PEER, true));
	ASSERT_EQ(sizeof(in_flight), tr_send_all(e->origin, in_flight,
						 sizeof(in_flight),
						 TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_wait_inq(e->peer, sizeof(in_flight),
				 TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(sizeof(in_flight), tr_outq(e->origin));
	/* Five RTOs, and no less than TCP_RTO_MIN (200 ms) */
	linger = 5 * rto_ms(e->origin);
	if (linger < 200)
		linger = 200;

	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_ON));
	frozen_segs = segs_out(e->origin);
	ASSERT_EQ(0, tr_dump_frozen(e->origin, NULL, &d, NULL));
	ASSERT_EQ(sizeof(in_flight), d.sndq_len);
	tr_msleep(RESTORE_DELAY_MS);

	paws_before = tr_mib(peer_ns, "TcpExtPAWSEstab");
	ASSERT_LE(0, paws_before);
	ASSERT_EQ(0, restore_elsewhere(e, &d));

	/* The copy's stream, while the original lingers for several RTOs */
	ASSERT_EQ(sizeof(more_out), tr_send_all(e->target, more_out,
						sizeof(more_out),
						TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(e->peer, in_flight, sizeof(in_flight),
				    TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(e->peer, more_out, sizeof(more_out),
				    TR_RETRANS_TIMEOUT));
	frozen_until(e->origin, frozen_segs, tr_now_ms() + linger);

	EXPECT_EQ(frozen_segs, segs_out(e->origin))
		TH_LOG("the frozen original sent %u segments in %d ms",
		       segs_out(e->origin) - frozen_segs, linger);
	paws_after = tr_mib(peer_ns, "TcpExtPAWSEstab");
	EXPECT_EQ(paws_before, paws_after)
		TH_LOG("the peer discarded %ld segments of the copy by PAWS",
		       paws_after - paws_before);

	/* Both ways, byte-exact, with the original still frozen */
	ASSERT_EQ(0, tr_xfer(e->peer, e->target, sizeof(more_in), 4));
	ASSERT_EQ(0, tr_exchange(e->peer, e->target, 3000, 5));
	EXPECT_EQ(0, tr_sock_error(e->peer));
	EXPECT_STREQ("ESTABLISHED", tr_state_str(tr_tcp_state(e->peer)));
	EXPECT_EQ(frozen_segs, segs_out(e->origin));
	tr_dump_free(&d);
}

/*
 * Keepalive after 1 s idle, every 1 s, one probe: the frozen original
 * would probe, get no answer (its input is frozen, and the peer answers
 * the copy anyway), and reset the peer's connection, which is the copy's.
 */
TEST_F_TIMEOUT(freeze_output, linger_keepalive, TEST_TIMEOUT)
{
	struct tr_env *e = &self->env;
	uint32_t frozen_segs;
	int64_t idle_since;
	struct tr_dump d;

	ASSERT_EQ(0, keepalive(e->origin, 1, 1, 1));
	ASSERT_EQ(0, tr_exchange(e->peer, e->origin, 2000, 1));
	/* Both ends have everything: origin receives nothing from now on */
	idle_since = tr_now_ms();

	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_ON));
	frozen_segs = segs_out(e->origin);
	ASSERT_EQ(0, tr_dump_frozen(e->origin, NULL, &d, NULL));
	tr_msleep(RESTORE_DELAY_MS);
	ASSERT_EQ(0, restore_elsewhere(e, &d));

	/*
	 * Past the original's keepalive timeout: a probe 1 s after the last
	 * segment it received, a reset 1 s later, and half a second more
	 */
	frozen_until(e->origin, frozen_segs, idle_since + 2500);
	EXPECT_EQ(frozen_segs, segs_out(e->origin))
		TH_LOG("the frozen original sent %u segments",
		       segs_out(e->origin) - frozen_segs);
	EXPECT_EQ(0, tr_sock_error(e->peer))
		TH_LOG("the peer's connection was reset");
	EXPECT_STREQ("ESTABLISHED", tr_state_str(tr_tcp_state(e->peer)));

	ASSERT_EQ(0, tr_exchange(e->peer, e->target, 5000, 2));
	EXPECT_EQ(frozen_segs, segs_out(e->origin));
	tr_dump_free(&d);
}

/*
 * The dump itself: origin has unsent data behind the peer's zero window
 * (the zero window probe timer runs) and a delayed ACK pending (quick ACKs
 * off). Frozen, both queues peeked, the window read: the probe timer, the
 * delayed ACK timer and the peek's window update send nothing, and a
 * second reading of the window finds the first one.
 */
TEST_F_TIMEOUT(freeze_output, dump_sends_nothing, TEST_TIMEOUT)
{
	static char out[1 << 20];
	char small[100], got[sizeof(small)];
	struct tr_env *e = &self->env;
	struct tcp_repair_window wnd;
	uint32_t frozen_segs, rcv_seq, snd_seq;
	int64_t deadline;
	struct tcp_info ti;
	ssize_t queued, n;
	int tries, wait;

	tr_fill(out, sizeof(out), 1);
	tr_fill(small, sizeof(small), 2);
	/*
	 * The peer reads nothing: its receive buffer fills, its window
	 * closes. Origin writes until nothing is in flight and unsent data
	 * waits: the window is closed.
	 */
	queued = 0;
	deadline = tr_now_ms() + TR_RETRANS_TIMEOUT;
	do {
		n = send(e->origin, out + queued, sizeof(out) - queued,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			queued += n;
		ASSERT_EQ(0, tr_tcp_info(e->origin, &ti));
		if (!ti.tcpi_unacked && tr_outq_nsd(e->origin) > 0)
			break;
		tr_poll(e->origin, POLLOUT, tr_now_ms() + 10);
	} while (tr_now_ms() < deadline);
	ASSERT_LT(0, queued);
	ASSERT_EQ(0, ti.tcpi_unacked);
	ASSERT_LT(0, tr_outq_nsd(e->origin));

	/* A delayed ACK is pending when repair mode is turned on */
	ASSERT_EQ(0, tr_setsockopt(e->origin, SOL_TCP, TCP_QUICKACK, 0,
				   "TCP_QUICKACK"));
	for (tries = 0; tries < 10; tries++) {
		ASSERT_EQ(sizeof(small), tr_send_all(e->peer, small,
						     sizeof(small),
						     TR_ARRIVAL_TIMEOUT));
		ASSERT_EQ(0, tr_wait_inq(e->origin, (tries + 1) * sizeof(small),
					 TR_ARRIVAL_TIMEOUT));
		ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_ON));
		if (tr_outq(e->peer) > 0)
			break;
		/* The ACK was faster than us: again */
		ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_OFF_NO_WP));
		ASSERT_EQ(0, tr_setsockopt(e->origin, SOL_TCP, TCP_QUICKACK, 0,
					   "TCP_QUICKACK"));
	}
	ASSERT_LT(0, tr_outq(e->peer))
		TH_LOG("origin acknowledged before it could be frozen");
	frozen_segs = segs_out(e->origin);

	{
		struct tr_dump d;

		ASSERT_EQ(0, tr_dump_frozen(e->origin, NULL, &d, NULL));
		ASSERT_EQ((tries + 1) * sizeof(small), d.rcvq_len);
		ASSERT_LT(0, d.unsent_len);
		wnd = d.wnd;
		rcv_seq = d.rcv_seq;
		snd_seq = d.snd_seq;
		tr_dump_free(&d);
	}

	/*
	 * Past the delayed ACK (200 ms at most, TCP_DELACK_MAX) and the next
	 * zero window probe (the RTO, 200 ms at least, shifted by the backoff:
	 * tcp_probe0_base()), and 300 ms more
	 */
	ASSERT_EQ(0, tr_tcp_info(e->origin, &ti));
	wait = ti.tcpi_rto / 1000 < 200 ? 200 : ti.tcpi_rto / 1000;
	wait <<= ti.tcpi_backoff < 5 ? ti.tcpi_backoff : 5;
	wait += 300;
	frozen_until(e->origin, frozen_segs, tr_now_ms() + wait);

	EXPECT_EQ(frozen_segs, segs_out(e->origin))
		TH_LOG("the frozen socket sent %u segments in %d ms",
		       segs_out(e->origin) - frozen_segs, wait);
	{
		struct tcp_repair_window again;
		uint32_t seq;

		ASSERT_EQ(0, tr_repair_queue(e->origin, TCP_NO_QUEUE));
		ASSERT_EQ(0, tr_window_get(e->origin, &again));
		EXPECT_EQ(wnd.snd_wl1, again.snd_wl1);
		EXPECT_EQ(wnd.snd_wnd, again.snd_wnd);
		EXPECT_EQ(wnd.max_window, again.max_window);
		EXPECT_EQ(wnd.rcv_wnd, again.rcv_wnd);
		EXPECT_EQ(wnd.rcv_wup, again.rcv_wup)
			TH_LOG("rcv_wup moved: an ACK left");
		ASSERT_EQ(0, tr_queue_seq(e->origin, TCP_RECV_QUEUE, &seq));
		EXPECT_EQ(rcv_seq, seq);
		ASSERT_EQ(0, tr_queue_seq(e->origin, TCP_SEND_QUEUE, &seq));
		EXPECT_EQ(snd_seq, seq);
	}
	EXPECT_LT(0, tr_outq(e->peer));

	/* Thawed, everything goes through */
	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_expect_data(e->peer, out, queued, TR_RETRANS_TIMEOUT));
	for (; tries >= 0; tries--) {
		ASSERT_EQ(sizeof(got), tr_recv_all(e->origin, got, sizeof(got),
						   TR_ARRIVAL_TIMEOUT));
		ASSERT_EQ(0, memcmp(got, small, sizeof(got)));
	}
	ASSERT_EQ(0, tr_wait_outq(e->peer, 0, TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_outq(e->origin, 0, TR_RETRANS_TIMEOUT));
}

/*
 * Frozen for three RTOs with data in flight and keepalive on, then repair
 * off without a window probe: the retransmission timer that expired while
 * frozen runs at once, the peer gets every byte, keepalive still probes.
 */
TEST_F_TIMEOUT(freeze_output, thaw, TEST_TIMEOUT)
{
	char data[4000];
	struct tr_env *e = &self->env;
	uint32_t frozen_segs, retrans, idle_segs;
	int64_t start, took, deadline;
	int rto, frozen;

	tr_fill(data, sizeof(data), 1);
	ASSERT_EQ(0, keepalive(e->origin, 1, 1, 3));
	ASSERT_EQ(0, tr_topo_block(&e->topo, TR_PEER, true));
	ASSERT_EQ(sizeof(data), tr_send_all(e->origin, data, sizeof(data),
					    TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_wait_inq(e->peer, sizeof(data), TR_ARRIVAL_TIMEOUT));
	rto = rto_ms(e->origin);

	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_ON));
	frozen_segs = segs_out(e->origin);
	retrans = total_retrans(e->origin);
	/* Three RTOs, and no less than TCP_RTO_MIN (200 ms) */
	frozen = 3 * rto < 200 ? 200 : 3 * rto;
	frozen_until(e->origin, frozen_segs, tr_now_ms() + frozen);
	EXPECT_EQ(frozen_segs, segs_out(e->origin))
		TH_LOG("the frozen socket sent %u segments in %d ms",
		       segs_out(e->origin) - frozen_segs, frozen);
	ASSERT_EQ(sizeof(data), tr_outq(e->origin));

	ASSERT_EQ(0, tr_topo_block(&e->topo, TR_PEER, false));
	start = tr_now_ms();
	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_OFF_NO_WP));
	ASSERT_EQ(0, tr_wait_outq(e->origin, 0, 2 * rto + 1000))
		TH_LOG("no retransmission within %d ms (RTO %d ms)",
		       2 * rto + 1000, rto);
	took = tr_now_ms() - start;
	tr_log("acknowledged %lld ms after the thaw, RTO %d ms",
	       (long long)took, rto);
	EXPECT_LT(retrans, total_retrans(e->origin));
	ASSERT_EQ(0, tr_expect_data(e->peer, data, sizeof(data),
				    TR_ARRIVAL_TIMEOUT));

	/* Idle: the next segment origin sends is a keepalive probe */
	idle_segs = segs_out(e->origin);
	deadline = tr_now_ms() + 5000;
	while (segs_out(e->origin) == idle_segs && tr_now_ms() < deadline)
		tr_msleep(20);
	EXPECT_LT(idle_segs, segs_out(e->origin))
		TH_LOG("no keepalive probe after the thaw");
	ASSERT_EQ(0, tr_exchange(e->peer, e->origin, 3000, 2));
	EXPECT_EQ(0, tr_sock_error(e->origin));
	EXPECT_EQ(0, tr_sock_error(e->peer));
}

/*
 * ICMP is input too. A router's "too big" about the segment in flight
 * would make a socket outside repair mode shrink its MSS and retransmit
 * at once: a frozen one ignores it, and learns the path MTU again from
 * the next error once it is thawed.
 */
TEST_F_TIMEOUT(freeze_output, icmp_too_big, TEST_TIMEOUT)
{
	struct sockaddr_storage local, remote;
	struct tr_env *e = &self->env;
	struct tcp_info before, after;
	uint32_t write_seq;
	char data[1300];
	socklen_t len;
	int mtu;

	/* One segment, larger than the MSS the error would leave */
	mtu = variant->family == AF_INET ? 1000 : 1280;
	tr_fill(data, sizeof(data), 1);
	ASSERT_EQ(0, tr_topo_block(&e->topo, TR_PEER, true));
	ASSERT_EQ(sizeof(data), tr_send_all(e->origin, data, sizeof(data),
					    TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_wait_inq(e->peer, sizeof(data), TR_ARRIVAL_TIMEOUT));
	len = sizeof(local);
	ASSERT_EQ(0, getsockname(e->origin, (struct sockaddr *)&local, &len));
	len = sizeof(remote);
	ASSERT_EQ(0, getpeername(e->origin, (struct sockaddr *)&remote,
				 &len));

	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_ON));
	ASSERT_EQ(0, tr_tcp_info(e->origin, &before));
	ASSERT_LT(mtu - 60, (int)before.tcpi_snd_mss);
	ASSERT_EQ(0, tr_queue_seq(e->origin, TCP_SEND_QUEUE, &write_seq));
	/* From origin's own namespace: the peer's path to it is blocked */
	ASSERT_EQ(0, tr_inject_too_big(e->topo.ns[TR_ORIGIN], &local, &remote,
				       write_seq - sizeof(data), mtu));
	tr_msleep(100);
	ASSERT_EQ(0, tr_tcp_info(e->origin, &after));

	EXPECT_EQ(before.tcpi_snd_mss, after.tcpi_snd_mss)
		TH_LOG("the frozen socket took the MSS of an ICMP error");
	EXPECT_EQ(before.tcpi_pmtu, after.tcpi_pmtu);
	EXPECT_EQ(before.tcpi_segs_out, after.tcpi_segs_out)
		TH_LOG("the frozen socket retransmitted on an ICMP error");
	EXPECT_EQ(before.tcpi_total_retrans, after.tcpi_total_retrans);

	ASSERT_EQ(0, tr_topo_block(&e->topo, TR_PEER, false));
	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_wait_outq(e->origin, 0, TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(e->peer, data, sizeof(data),
				    TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_exchange(e->peer, e->origin, 5000, 2));
}

struct sysctl_args {
	const char *path;
	const char *val;
};

static int sysctl_write(void *arg)
{
	const struct sysctl_args *a = arg;
	int fd, err = 0;

	fd = open(a->path, O_WRONLY);
	if (fd < 0 || write(fd, a->val, strlen(a->val)) < 0)
		err = -errno;
	if (err)
		tr_log("%s: %s", a->path, strerror(-err));
	if (fd >= 0)
		close(fd);
	return err;
}

/*
 * A Fast Open child is accepted in SYN_RECV, with the SYN's data, before
 * the handshake completes; its SYN-ACK is lost. Frozen there, it must not
 * retransmit its SYN-ACK, nor answer the client's retransmitted SYN
 * through tcp_check_req(): the client stays in SYN_SENT. Thawed, the
 * handshake completes.
 */
TEST_F_TIMEOUT(freeze_output, fastopen_child, TEST_TIMEOUT)
{
	/* server: enabled, no cookie needed; client: enabled, no cookie */
	struct sysctl_args srv = { "/proc/sys/net/ipv4/tcp_fastopen", "514" };
	struct sysctl_args cli = { "/proc/sys/net/ipv4/tcp_fastopen", "5" };
	struct sockaddr_storage svc, client;
	struct tr_env *e = &self->env;
	int lfd, child = -1, fd, qlen = 16;
	int64_t drops, syn_time, deadline;
	uint32_t segs, retrans;
	char syn_data[500];
	struct pollfd pfd;

	tr_fill(syn_data, sizeof(syn_data), 1);
	ASSERT_EQ(0, tr_ns_run(e->topo.ns[TR_ORIGIN], sysctl_write, &srv));
	ASSERT_EQ(0, tr_ns_run(e->topo.ns[TR_PEER], sysctl_write, &cli));
	tr_topo_addr(&e->topo, TR_SERVICE, 7000, &svc);
	tr_topo_addr(&e->topo, TR_CLIENT, 0, &client);
	lfd = tr_listen(e->topo.ns[TR_ORIGIN], &svc, -1);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, setsockopt(lfd, SOL_TCP, TCP_FASTOPEN, &qlen,
				sizeof(qlen)));

	/* The SYN with data arrives, the SYN-ACK is lost */
	ASSERT_EQ(0, tr_topo_block(&e->topo, TR_ORIGIN, true));
	fd = tr_ns_socket(e->topo.ns[TR_PEER], svc.ss_family,
			  SOCK_STREAM | SOCK_NONBLOCK, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&client,
			  tr_addr_len(&client)));
	syn_time = tr_now_ms();
	ASSERT_EQ(sizeof(syn_data),
		  sendto(fd, syn_data, sizeof(syn_data), MSG_FASTOPEN,
			 (struct sockaddr *)&svc, tr_addr_len(&svc)));
	pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, TR_ARRIVAL_TIMEOUT));
	child = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	ASSERT_LE(0, child);
	/* SIOCINQ says 0 in SYN_RECV: the data is checked after the thaw */
	ASSERT_STREQ("SYN_RECV", tr_state_str(tr_tcp_state(child)));

	ASSERT_EQ(0, tr_repair(child, TCP_REPAIR_ON));
	segs = segs_out(child);
	retrans = total_retrans(child);
	drops = tr_drops(child);
	ASSERT_LE(0, drops);
	ASSERT_EQ(0, tr_topo_block(&e->topo, TR_ORIGIN, false));

	/*
	 * Past the child's SYN-ACK timer and the client's SYN timer (1 s
	 * from the SYN, which the child answered at once), 300 ms more, and
	 * until the client's second SYN reached the child
	 */
	deadline = syn_time + 1000 + 300;
	frozen_until(child, segs, deadline);
	while (tr_drops(child) == drops && segs_out(child) == segs &&
	       tr_now_ms() < deadline + TR_ARRIVAL_TIMEOUT)
		tr_msleep(10);
	EXPECT_STREQ("SYN_RECV", tr_state_str(tr_tcp_state(child)));
	EXPECT_EQ(segs, segs_out(child));
	EXPECT_EQ(retrans, total_retrans(child))
		TH_LOG("the frozen child retransmitted its SYN-ACK");
	EXPECT_STREQ("SYN_SENT", tr_state_str(tr_tcp_state(fd)))
		TH_LOG("the client completed a handshake with a frozen child");
	EXPECT_LT(drops, tr_drops(child))
		TH_LOG("the client's SYN did not reach the frozen child");

	/* Thawed: its SYN-ACK goes out, the handshake completes */
	ASSERT_EQ(0, tr_repair(child, TCP_REPAIR_OFF_NO_WP));
	ASSERT_EQ(0, tr_wait_state(fd, TR_ESTABLISHED, TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_state(child, TR_ESTABLISHED, TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(child, syn_data, sizeof(syn_data),
				    TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_exchange(fd, child, 2000, 2));
	close(child);
	close(fd);
	close(lfd);
}

TEST_HARNESS_MAIN
