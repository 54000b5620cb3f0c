// SPDX-License-Identifier: GPL-2.0
/*
 * What a frozen socket must keep: a snapshot of its state, compared field
 * by field, and the counters that say what reached it (the sender's
 * segments, the socket's drops, SOCKET_REPAIR events).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>

#include "tcp_repair.h"

int tr_snap_take(int fd, struct tr_snap *s)
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

static int differ(const char *what, long long a, long long b,
		  const char *meaning)
{
	if (a == b)
		return 0;
	tr_log("%s: %lld, then %lld%s%s", what, a, b, meaning ? ": " : "",
	       meaning ?: "");
	return 1;
}

int tr_snap_diff(const struct tr_snap *a, const struct tr_snap *b)
{
	int n = 0;

	if (a->state != b->state) {
		tr_log("the socket in repair mode changed state: %s, then %s",
		       tr_state_str(a->state), tr_state_str(b->state));
		n++;
	}
	n += differ("rcv_nxt", a->rcv_seq, b->rcv_seq, a->rcv_seq !=
		    b->rcv_seq ? "bytes accepted" : NULL);
	n += differ("write_seq", a->snd_seq, b->snd_seq, NULL);
	n += differ("SIOCINQ", a->inq, b->inq, NULL);
	n += differ("SIOCOUTQ", a->outq, b->outq, "data acked");
	n += differ("SIOCOUTQNSD", a->nsd, b->nsd, NULL);
	n += differ("snd_wl1", a->wnd.snd_wl1, b->wnd.snd_wl1, NULL);
	n += differ("snd_wnd", a->wnd.snd_wnd, b->wnd.snd_wnd, NULL);
	n += differ("max_window", a->wnd.max_window, b->wnd.max_window, NULL);
	n += differ("rcv_wnd", a->wnd.rcv_wnd, b->wnd.rcv_wnd, NULL);
	n += differ("rcv_wup", a->wnd.rcv_wup, b->wnd.rcv_wup, NULL);
	n += differ("SK_MEMINFO_RMEM_ALLOC", a->mem[SK_MEMINFO_RMEM_ALLOC],
		    b->mem[SK_MEMINFO_RMEM_ALLOC], NULL);
	n += differ("SK_MEMINFO_RCVBUF", a->mem[SK_MEMINFO_RCVBUF],
		    b->mem[SK_MEMINFO_RCVBUF], NULL);
	n += differ("SK_MEMINFO_SNDBUF", a->mem[SK_MEMINFO_SNDBUF],
		    b->mem[SK_MEMINFO_SNDBUF], NULL);
	n += differ("SK_MEMINFO_WMEM_QUEUED", a->mem[SK_MEMINFO_WMEM_QUEUED],
		    b->mem[SK_MEMINFO_WMEM_QUEUED], NULL);
	n += differ("SK_MEMINFO_BACKLOG", a->mem[SK_MEMINFO_BACKLOG],
		    b->mem[SK_MEMINFO_BACKLOG], NULL);
	return n;
}

int tr_counts_read(const struct tr_env *e, int frozen, int sender,
		   struct tr_counts *c)
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
	if (e->tracing) {
		c->trace = tr_trace_count(&e->trace);
		if (c->trace < 0)
			return c->trace;
	}
	return 0;
}

/*
 * The peer retransmits on its own schedule, with backoff (20 ms, 40, 80...
 * with the rto_min of the topologies' routes): read the three counters
 * until two readings 30 ms apart agree, so that no segment is counted by
 * the sender and still in flight to the socket.
 */
int tr_counts_settle(const struct tr_env *e, int frozen, int sender,
		     struct tr_counts *c)
{
	int64_t deadline = tr_now_ms() + TR_ARRIVAL_TIMEOUT;
	struct tr_counts prev;
	int err;

	err = tr_counts_read(e, frozen, sender, &prev);
	while (!err) {
		tr_msleep(30);
		err = tr_counts_read(e, frozen, sender, c);
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

/*
 * Until what was just sent to @frozen got there: dropped (its drop counter
 * passed @drops0) or, by a kernel that does not freeze, acted upon: the
 * sender's unacknowledged bytes went below @sender_outq (@sender -1: no
 * sender to look at), or the socket's state or send queue moved from @s0.
 * Data queued by such a kernel counts only once it is acknowledged: its
 * ACK may be delayed, and a socket closed before it went out would leave
 * the data to the peer's retransmission, as if frozen.
 */
int tr_wait_arrival(int frozen, const struct tr_snap *s0, int64_t drops0,
		    int sender, int sender_outq, int timeout_ms)
{
	int64_t deadline = tr_now_ms() + timeout_ms;

	for (;;) {
		if (tr_drops(frozen) > drops0)
			return 0;
		if (sender >= 0 && tr_outq(sender) < sender_outq)
			return 0;
		if (tr_tcp_state(frozen) != s0->state ||
		    tr_outq(frozen) != s0->outq)
			return 0;
		if (tr_now_ms() > deadline)
			return -ETIMEDOUT;
		tr_msleep(1);
	}
}
