// SPDX-License-Identifier: GPL-2.0
/*
 * Random segments for a live TCP socket in repair mode: none may change
 * it, each is dropped, and the connection works once repair mode is off.
 * The fixture, and so the test names, are freeze.c's: this is its fuzzer,
 * a program of its own.
 *
 * Topology (lib/topo.c): peer <-> origin, the segments injected in origin.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../kselftest_harness.h"
#include "lib/tcp_repair.h"

/* Generous for software emulation, the waits are bounded anyway */
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

static void fuzz_seg(uint32_t *x, const struct tr_snap *s, struct tr_seg *seg,
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

/* What a segment a socket acted upon leaves, for good */
static bool acted_upon(const struct tr_snap *a, const struct tr_snap *b)
{
	return a->state != b->state || a->rcv_seq != b->rcv_seq ||
	       a->outq != b->outq || a->ctl_out != b->ctl_out;
}

TEST_F_TIMEOUT(freeze, fuzz_frozen, TEST_TIMEOUT)
{
	struct tr_env *e = &self->env;
	uint32_t seed = variant->family == AF_INET ? 0x5eed0004 : 0x5eed0006;
	long sent = 0, expect_repair = 0;
	struct sockaddr_storage src, dst;
	uint8_t opt[TR_OPT_MAX];
	static char payload[1400];
	struct tr_counts c0, c1;
	struct tr_snap s0, s1;
	int64_t deadline;
	struct tr_seg seg;
	const char *env;
	socklen_t len;
	uint32_t x;
	int raw;

	env = getenv("TR_FUZZ_SEED");
	if (env)
		seed = strtoul(env, NULL, 0) ?: 1;
	TH_LOG("seed 0x%08x (TR_FUZZ_SEED replays it)", seed);
	x = seed;
	tr_fill(payload, sizeof(payload), seed);

	ASSERT_EQ(0, tr_exchange(e->peer, e->origin, 3000, 15));

	len = sizeof(src);
	ASSERT_EQ(0, getsockname(e->peer, (struct sockaddr *)&src, &len));
	len = sizeof(dst);
	ASSERT_EQ(0, getsockname(e->origin, (struct sockaddr *)&dst, &len));

	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_ON));
	ASSERT_EQ(0, tr_snap_take(e->origin, &s0));
	ASSERT_EQ(0, tr_counts_settle(e, e->origin, -1, &c0));

	raw = tr_inject_open(e->topo.ns[TR_ORIGIN], &src);
	ASSERT_LE(0, raw);
	deadline = tr_now_ms() + FUZZ_TIME_MS;
	while (sent < FUZZ_SEGS && tr_now_ms() < deadline) {
		fuzz_seg(&x, &s0, &seg, opt);
		seg.data = payload;
		ASSERT_EQ(0, tr_inject_send(raw, &src, &dst, &seg))
			TH_LOG("segment %ld", sent);
		sent++;
		if (seg.flags & (TR_ACK | TR_RST | TR_SYN))
			expect_repair++;
	}
	close(raw);
	TH_LOG("%ld segments, %ld with ACK, RST or SYN", sent, expect_repair);

	/* Until each one was dropped, or one was acted upon: a failure */
	deadline = tr_now_ms() + TR_ARRIVAL_TIMEOUT;
	while (tr_drops(e->origin) < c0.drops + sent &&
	       !tr_snap_take(e->origin, &s1) && !acted_upon(&s0, &s1) &&
	       tr_now_ms() < deadline)
		tr_msleep(5);
	ASSERT_EQ(0, tr_counts_settle(e, e->origin, -1, &c1));
	ASSERT_EQ(0, tr_snap_take(e->origin, &s1));

	EXPECT_EQ(0, tr_snap_diff(&s0, &s1));
	EXPECT_EQ(s0.ctl_out, s1.ctl_out)
		TH_LOG("the socket in repair mode sent %u ACK/RST segments",
		       s1.ctl_out - s0.ctl_out);
	EXPECT_EQ(sent, c1.drops - c0.drops)
		TH_LOG("every segment must be dropped by the frozen socket");
	if (e->tracing)
		EXPECT_EQ(expect_repair, c1.trace - c0.trace)
			TH_LOG("drops with reason SOCKET_REPAIR");

	/* Thawed, the connection carries on */
	ASSERT_EQ(0, tr_repair(e->origin, TCP_REPAIR_OFF));
	ASSERT_EQ(0, tr_exchange(e->peer, e->origin, 5000, 16));
	EXPECT_EQ(TR_ESTABLISHED, tr_tcp_state(e->origin));
	EXPECT_EQ(TR_ESTABLISHED, tr_tcp_state(e->peer));
}

TEST_HARNESS_MAIN
