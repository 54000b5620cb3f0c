// SPDX-License-Identifier: GPL-2.0
/*
 * Dump an established connection with data queued both ways, close it in
 * repair mode, move its address to another namespace and restore it there:
 * both directions must go on byte-exact. Nothing reaches the socket while
 * it is dumped, so this holds with and without the repair-mode freeze.
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

#define TEST_TIMEOUT	120

FIXTURE(roundtrip) {
	struct tr_topo topo;
	int peer;
	int origin;
	int target;
};

FIXTURE_VARIANT(roundtrip) {
	int family;
};

FIXTURE_VARIANT_ADD(roundtrip, ipv4) {
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(roundtrip, ipv6) {
	.family = AF_INET6,
};

FIXTURE_SETUP(roundtrip)
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
}

FIXTURE_TEARDOWN(roundtrip)
{
	if (self->peer >= 0)
		close(self->peer);
	if (self->origin >= 0)
		close(self->origin);
	if (self->target >= 0)
		close(self->target);
	tr_topo_fini(&self->topo);
}

TEST_F_TIMEOUT(roundtrip, established, TEST_TIMEOUT)
{
	char to_origin[5000], from_origin[40000], more_in[7000], more_out[9000];
	struct tcp_info before, after;
	int sndbuf = 1 << 20;
	struct tr_dump d;

	tr_fill(to_origin, sizeof(to_origin), 1);
	tr_fill(from_origin, sizeof(from_origin), 2);
	tr_fill(more_in, sizeof(more_in), 3);
	tr_fill(more_out, sizeof(more_out), 4);

	/* Received and not read: the receive queue */
	ASSERT_EQ(sizeof(to_origin), tr_send_all(self->peer, to_origin,
						 sizeof(to_origin),
						 TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_wait_inq(self->origin, sizeof(to_origin),
				 TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_outq(self->peer, 0, TR_RETRANS_TIMEOUT));

	/*
	 * Written, lost on the way out: the first congestion window is sent
	 * and unacknowledged, the rest is not sent yet. The peer received
	 * nothing and sends nothing while origin is dumped.
	 */
	ASSERT_EQ(0, setsockopt(self->origin, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				sizeof(sndbuf)));
	ASSERT_EQ(0, tr_topo_block(&self->topo, TR_ORIGIN, true));
	ASSERT_EQ(sizeof(from_origin),
		  tr_send_all(self->origin, from_origin, sizeof(from_origin),
			      TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_tcp_info(self->origin, &before));

	ASSERT_EQ(0, tr_dump(self->origin, &d));
	ASSERT_STREQ("ESTABLISHED", tr_state_str(d.state));
	ASSERT_EQ(sizeof(to_origin), d.rcvq_len);
	ASSERT_EQ(0, memcmp(d.rcvq, to_origin, d.rcvq_len));
	ASSERT_EQ(sizeof(from_origin), d.sndq_len);
	ASSERT_EQ(0, memcmp(d.sndq, from_origin, d.sndq_len));
	EXPECT_LT(0, d.unsent_len);
	EXPECT_GT(d.sndq_len, d.unsent_len);

	ASSERT_EQ(0, tr_topo_isolate_origin(&self->topo));
	ASSERT_EQ(0, close(self->origin));
	self->origin = -1;
	ASSERT_EQ(0, tr_topo_move_service(&self->topo));
	self->target = tr_restore(self->topo.ns[TR_TARGET], &d,
				  TCP_REPAIR_OFF_NO_WP);
	ASSERT_LE(0, self->target);
	ASSERT_EQ(0, tr_topo_switch_peer(&self->topo));

	ASSERT_EQ(0, tr_tcp_info(self->target, &after));
	EXPECT_STREQ("ESTABLISHED", tr_state_str(after.tcpi_state));
	EXPECT_EQ(before.tcpi_options &
		  (TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE),
		  after.tcpi_options &
		  (TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE));
	EXPECT_EQ((int)before.tcpi_snd_wscale, (int)after.tcpi_snd_wscale);
	EXPECT_EQ((int)before.tcpi_rcv_wscale, (int)after.tcpi_rcv_wscale);

	/* What was queued, in order, then new data both ways */
	ASSERT_EQ(0, tr_expect_data(self->target, to_origin, sizeof(to_origin),
				    TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(self->peer, from_origin,
				    sizeof(from_origin), TR_RETRANS_TIMEOUT));
	ASSERT_EQ(sizeof(more_in), tr_send_all(self->peer, more_in,
					       sizeof(more_in),
					       TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(self->target, more_in, sizeof(more_in),
				    TR_RETRANS_TIMEOUT));
	ASSERT_EQ(sizeof(more_out), tr_send_all(self->target, more_out,
						sizeof(more_out),
						TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(self->peer, more_out, sizeof(more_out),
				    TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_outq(self->target, 0, TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_outq(self->peer, 0, TR_RETRANS_TIMEOUT));

	EXPECT_STREQ("ESTABLISHED", tr_state_str(tr_tcp_state(self->target)));
	EXPECT_STREQ("ESTABLISHED", tr_state_str(tr_tcp_state(self->peer)));
	EXPECT_EQ(0, tr_sock_error(self->peer));
	tr_dump_free(&d);
}

TEST_HARNESS_MAIN
