// SPDX-License-Identifier: GPL-2.0
/*
 * Dump an established connection with data queued both ways, close it in
 * repair mode, move its address to another namespace and restore it there:
 * both directions must go on byte-exact. Nothing reaches the socket while
 * it is dumped, and no tail loss probe is due then (the dump waits for the
 * first RTO), so this holds with and without the repair-mode freeze.
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
	struct tr_env env;
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
	int err = tr_env_init(&self->env, variant->family, TR_ENV_PAIR);

	if (tr_skip_reason(err))
		SKIP(return, "%s", tr_skip_reason(err));
	ASSERT_EQ(0, err);
}

FIXTURE_TEARDOWN(roundtrip)
{
	tr_env_fini(&self->env);
}

TEST_F_TIMEOUT(roundtrip, established, TEST_TIMEOUT)
{
	char to_origin[5000], from_origin[40000], more_in[7000], more_out[9000];
	struct tcp_info before, after;
	int sndbuf = 1 << 20;
	struct tr_env *e = &self->env;
	struct tr_dump d;

	tr_fill(to_origin, sizeof(to_origin), 1);
	tr_fill(from_origin, sizeof(from_origin), 2);
	tr_fill(more_in, sizeof(more_in), 3);
	tr_fill(more_out, sizeof(more_out), 4);

	/* Received and not read: the receive queue */
	ASSERT_EQ(sizeof(to_origin), tr_send_all(e->peer, to_origin,
						 sizeof(to_origin),
						 TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_wait_inq(e->origin, sizeof(to_origin),
				 TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_outq(e->peer, 0, TR_RETRANS_TIMEOUT));

	/*
	 * Written, lost on the way out: the first congestion window is sent
	 * and unacknowledged, the rest is not sent yet. The peer received
	 * nothing and sends nothing while origin is dumped.
	 */
	ASSERT_EQ(0, setsockopt(e->origin, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				sizeof(sndbuf)));
	ASSERT_EQ(0, tr_topo_block(&e->topo, TR_ORIGIN, true));
	ASSERT_EQ(sizeof(from_origin),
		  tr_send_all(e->origin, from_origin, sizeof(from_origin),
			      TR_ARRIVAL_TIMEOUT));
	/*
	 * After the RTO, no loss probe is scheduled. Without the freeze, one
	 * due while the dump has the send queue selected would mark all the
	 * unsent data as sent, without sending it (tcp_write_xmit()'s repair
	 * path), and leave nothing unsent to restore.
	 */
	ASSERT_EQ(0, tr_wait_ca_state(e->origin, TCP_CA_Loss,
				      TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_tcp_info(e->origin, &before));

	ASSERT_EQ(0, tr_dump(e->origin, &d));
	ASSERT_STREQ("ESTABLISHED", tr_state_str(d.state));
	ASSERT_EQ(sizeof(to_origin), d.rcvq_len);
	ASSERT_EQ(0, memcmp(d.rcvq, to_origin, d.rcvq_len));
	ASSERT_EQ(sizeof(from_origin), d.sndq_len);
	ASSERT_EQ(0, memcmp(d.sndq, from_origin, d.sndq_len));
	EXPECT_LT(0, d.unsent_len);
	EXPECT_GT(d.sndq_len, d.unsent_len);

	ASSERT_EQ(0, tr_env_migrate(e, &d, TCP_REPAIR_OFF_NO_WP));

	ASSERT_EQ(0, tr_tcp_info(e->target, &after));
	EXPECT_STREQ("ESTABLISHED", tr_state_str(after.tcpi_state));
	EXPECT_EQ(before.tcpi_options &
		  (TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE),
		  after.tcpi_options &
		  (TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE));
	EXPECT_EQ((int)before.tcpi_snd_wscale, (int)after.tcpi_snd_wscale);
	EXPECT_EQ((int)before.tcpi_rcv_wscale, (int)after.tcpi_rcv_wscale);

	/* What was queued, in order, then new data both ways */
	ASSERT_EQ(0, tr_expect_data(e->target, to_origin, sizeof(to_origin),
				    TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(e->peer, from_origin,
				    sizeof(from_origin), TR_RETRANS_TIMEOUT));
	ASSERT_EQ(sizeof(more_in), tr_send_all(e->peer, more_in,
					       sizeof(more_in),
					       TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(e->target, more_in, sizeof(more_in),
				    TR_RETRANS_TIMEOUT));
	ASSERT_EQ(sizeof(more_out), tr_send_all(e->target, more_out,
						sizeof(more_out),
						TR_ARRIVAL_TIMEOUT));
	ASSERT_EQ(0, tr_expect_data(e->peer, more_out, sizeof(more_out),
				    TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_outq(e->target, 0, TR_RETRANS_TIMEOUT));
	ASSERT_EQ(0, tr_wait_outq(e->peer, 0, TR_RETRANS_TIMEOUT));

	EXPECT_STREQ("ESTABLISHED", tr_state_str(tr_tcp_state(e->target)));
	EXPECT_STREQ("ESTABLISHED", tr_state_str(tr_tcp_state(e->peer)));
	EXPECT_EQ(0, tr_sock_error(e->peer));
	tr_dump_free(&d);
}

TEST_HARNESS_MAIN
