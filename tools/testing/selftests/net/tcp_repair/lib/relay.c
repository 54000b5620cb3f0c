// SPDX-License-Identifier: GPL-2.0
/*
 * A TCP relay that migrates with its connections, playing passt's part for
 * a guest: it accepts the peer's connections on the service address and
 * relays each to the guest's server from its own guest-side address, all
 * in one event loop. Its sockets live where its addresses are (origin or
 * target, lib/topo.c); tr_relay_migrate() moves all of them to the other
 * host with TCP_REPAIR while the traffic goes on, and no netfilter rule or
 * route keeps the peers' segments from the originals meanwhile.
 *
 * A migration follows passt's recipe (tcp.c, flow.c), with the relay's own
 * steps around it:
 * - the relay reads its receive queues empty, so that the streams keep
 *   coming (its own step);
 * - repair mode goes on for every socket first, then each is dumped once
 *   (lib/repair.c, passt's order), TCP_TIMESTAMP included: it is not read
 *   again later;
 * - the originals stay in repair mode while the relay waits for the
 *   streams to reach the originals of the legs that carried them (its own
 *   step: the window in which a kernel that does not freeze acknowledges
 *   bytes the images do not have, and they are lost);
 * - the addresses move; each copy is restored in passt's order up to
 *   TCP_REPAIR_WINDOW; the routes switch; repair mode goes off on the
 *   copies and their unsent data is written;
 * - the originals are not closed: they stay open in repair mode, as passt
 *   keeps them by default since July 2025 so that late segments are
 *   ignored rather than answered with a RST, until the relay stops or
 *   comes back to their namespace (a new passt there: the kernel would not
 *   let a copy connect with the four-tuple of a socket that still exists).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_repair.h"

#define BUF_SIZE	1048576		/* per direction, more than a rcvbuf */
#define SOCK_BUF	(128 << 10)	/* SO_SNDBUF/SO_RCVBUF, doubled */

static const char *const leg_name[TR_LEGS] = {
	[TR_LEG_PEER]	= "peer",
	[TR_LEG_GUEST]	= "guest",
};

static void fail(struct tr_relay *r, const char *reason, const char *fmt,
		 ...) __printf(3, 4);

/* Keep the first failure: what went wrong first explains the rest */
static void fail(struct tr_relay *r, const char *reason, const char *fmt, ...)
{
	char msg[sizeof(r->error) - 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tr_log("relay: %s: %s", reason, msg);
	if (r->error[0])
		return;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	snprintf(r->error, sizeof(r->error), "%s: %s", reason, msg);
}

/* Non-blocking, no Nagle: a relay adds no delay (not part of the image) */
static int sock_setup(int fd)
{
	int one = 1;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) ||
	    setsockopt(fd, SOL_TCP, TCP_NODELAY, &one, sizeof(one)))
		return -errno;
	return 0;
}

/* Fixed buffers: a restore must fit in what SO_SNDBUF/SO_RCVBUF give */
static int sock_buffers(int fd)
{
	int size = SOCK_BUF;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)))
		return -errno;
	return 0;
}

int tr_relay_start(struct tr_relay *r, struct tr_topo *t, uint16_t port,
		   uint16_t guest_port)
{
	struct sockaddr_storage svc;
	int one = 1, err, i, j;

	memset(r, 0, sizeof(*r));
	r->t = t;
	r->guest_port = guest_port;
	r->lfd = -1;
	for (i = 0; i < TR_RELAY_CONNS; i++)
		for (j = 0; j < TR_LEGS; j++)
			r->conn[i].fd[j] = -1;
	r->progress_ms = tr_now_ms();

	tr_addr(t->family, TR_SERVICE, port, &svc);
	r->lfd = tr_ns_socket(t->ns[t->service_in], t->family,
			      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->lfd < 0)
		return r->lfd;
	if (setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    sock_buffers(r->lfd) ||
	    bind(r->lfd, (struct sockaddr *)&svc, tr_addr_len(&svc)) ||
	    listen(r->lfd, TR_RELAY_CONNS)) {
		err = -errno;
		tr_log("relay: listening on %s: %s", tr_addr_str(&svc),
		       strerror(errno));
		close(r->lfd);
		r->lfd = -1;
		return err;
	}
	return 0;
}

static void conn_close(struct tr_relay_conn *c, bool abort)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int i;

	for (i = 0; i < TR_LEGS; i++) {
		if (c->fd[i] < 0)
			continue;
		if (abort)
			setsockopt(c->fd[i], SOL_SOCKET, SO_LINGER, &lg,
				   sizeof(lg));
		close(c->fd[i]);
		c->fd[i] = -1;
	}
	for (i = 0; i < TR_LEGS; i++) {
		free(c->buf[i].data);
		c->buf[i].data = NULL;
	}
	c->done = true;
}

void tr_relay_stop(struct tr_relay *r)
{
	int i;

	for (i = 0; i < r->nconn; i++)
		if (!r->conn[i].done)
			conn_close(&r->conn[i], true);
	if (r->lfd >= 0)
		close(r->lfd);
	r->lfd = -1;
	for (i = 0; i < r->nstale; i++)
		close(r->stale[i].fd);
	r->nstale = 0;
}

static void do_accept(struct tr_relay *r)
{
	struct sockaddr_storage self, guest;
	struct tr_relay_conn *c;
	int fd, gfd, i;

	fd = accept4(r->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			fail(r, "relay", "accept(): %s", strerror(errno));
		return;
	}
	if (r->nconn == TR_RELAY_CONNS) {
		fail(r, "relay", "more than %d connections", TR_RELAY_CONNS);
		close(fd);
		return;
	}
	c = &r->conn[r->nconn++];
	memset(c, 0, sizeof(*c));
	c->fd[TR_LEG_PEER] = fd;
	c->fd[TR_LEG_GUEST] = -1;
	for (i = 0; i < TR_LEGS; i++) {
		c->buf[i].data = malloc(BUF_SIZE);
		c->buf[i].size = BUF_SIZE;
		if (!c->buf[i].data) {
			fail(r, "relay", "out of memory");
			conn_close(c, true);
			return;
		}
	}

	tr_addr(r->t->family, TR_RELAY, 0, &self);
	tr_addr(r->t->family, TR_BACKEND, r->guest_port, &guest);
	gfd = tr_ns_socket(r->t->ns[r->t->service_in], r->t->family,
			   SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (gfd < 0) {
		fail(r, "relay", "no socket for the guest leg");
		conn_close(c, true);
		return;
	}
	c->fd[TR_LEG_GUEST] = gfd;
	if (sock_buffers(gfd) || sock_setup(fd) ||
	    bind(gfd, (struct sockaddr *)&self, tr_addr_len(&self)) ||
	    (connect(gfd, (struct sockaddr *)&guest, tr_addr_len(&guest)) &&
	     errno != EINPROGRESS)) {
		fail(r, "relay", "connecting to the guest %s: %s",
		     tr_addr_str(&guest), strerror(errno));
		conn_close(c, true);
		return;
	}
	c->connecting = true;
}

static void connected(struct tr_relay *r, struct tr_relay_conn *c)
{
	int err = tr_sock_error(c->fd[TR_LEG_GUEST]);

	if (err) {
		fail(r, err == ECONNRESET || err == ECONNREFUSED ?
			"reset" : "relay",
		     "connection %td to the guest: %s", c - r->conn,
		     strerror(err < 0 ? -err : err));
		conn_close(c, true);
		return;
	}
	if (sock_setup(c->fd[TR_LEG_GUEST])) {
		fail(r, "relay", "setting up the guest leg: %s",
		     strerror(errno));
		conn_close(c, true);
		return;
	}
	c->connecting = false;
}

/*
 * A leg that failed: a reset (how some applications end) is counted and the
 * leg dropped, while the other one is still read to its end, what it sends
 * counted and discarded; any other error fails the relay.
 */
static void leg_error(struct tr_relay *r, struct tr_relay_conn *c, int leg,
		      const char *op, int err)
{
	if (err != ECONNRESET && err != EPIPE) {
		fail(r, "relay", "connection %td, %s leg: %s: %s",
		     c - r->conn, leg_name[leg], op, strerror(err));
		conn_close(c, true);
		return;
	}
	r->resets++;
	tr_log("relay: connection %td, %s leg: %s: %s", c - r->conn,
	       leg_name[leg], op, strerror(err));
	close(c->fd[leg]);
	c->fd[leg] = -1;
	c->dead[leg] = true;
	c->eof[leg] = true;
	c->shut[leg] = true;
	c->buf[leg].head = c->buf[leg].tail;
	if (c->shut[!leg])
		conn_close(c, false);
}

/* Read what @leg has into its buffer; false if the connection is gone. */
static bool leg_read(struct tr_relay *r, struct tr_relay_conn *c, int leg)
{
	struct tr_relay_buf *b = &c->buf[leg];
	ssize_t n;

	while (!c->eof[leg]) {
		if (b->head && b->head == b->tail) {
			b->head = 0;
			b->tail = 0;
		}
		if (b->tail == b->size) {
			if (!b->head)
				break;
			memmove(b->data, b->data + b->head,
				b->tail - b->head);
			b->tail -= b->head;
			b->head = 0;
		}
		n = recv(c->fd[leg], b->data + b->tail, b->size - b->tail,
			 MSG_DONTWAIT);
		if (n > 0) {
			b->tail += n;
			c->bytes[leg] += n;
			r->total += n;
			r->progress_ms = tr_now_ms();
			continue;
		}
		if (n == 0) {
			c->eof[leg] = true;
			break;
		}
		if (errno == EAGAIN || errno == EINTR)
			break;
		leg_error(r, c, leg, "recv()", errno);
		return false;
	}
	return true;
}

/* Write what was read from @leg to the other one */
static bool leg_write(struct tr_relay *r, struct tr_relay_conn *c, int leg)
{
	struct tr_relay_buf *b = &c->buf[leg];
	int to = !leg;
	ssize_t n;

	if (c->dead[to])
		b->head = b->tail;
	while (b->head < b->tail) {
		n = send(c->fd[to], b->data + b->head, b->tail - b->head,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			b->head += n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		leg_error(r, c, to, "send()", n < 0 ? errno : EIO);
		return false;
	}
	if (c->eof[leg] && b->head == b->tail && !c->shut[leg]) {
		if (!c->dead[to])
			shutdown(c->fd[to], SHUT_WR);
		c->shut[leg] = true;
	}
	if (c->shut[TR_LEG_PEER] && c->shut[TR_LEG_GUEST])
		conn_close(c, false);
	return true;
}

int tr_relay_poll(struct tr_relay *r, struct pollfd *extra, int nextra,
		  int timeout_ms)
{
	struct pollfd pfd[1 + 2 * TR_RELAY_CONNS + 8];
	struct tr_relay_conn *c;
	int n = 0, i, leg, ret;

	if (nextra > 8)
		return -EINVAL;
	pfd[n].fd = r->lfd;
	pfd[n++].events = POLLIN;
	for (i = 0; i < r->nconn; i++) {
		c = &r->conn[i];
		for (leg = 0; leg < TR_LEGS; leg++) {
			struct tr_relay_buf *in = &c->buf[leg];
			struct tr_relay_buf *out = &c->buf[!leg];

			pfd[n].fd = c->done ? -1 : c->fd[leg];
			pfd[n].events = 0;
			if (c->connecting) {
				if (leg == TR_LEG_GUEST)
					pfd[n].events = POLLOUT;
			} else {
				if (!c->eof[leg] &&
				    (in->tail < in->size || in->head))
					pfd[n].events |= POLLIN;
				if (out->head < out->tail)
					pfd[n].events |= POLLOUT;
			}
			n++;
		}
	}
	memcpy(&pfd[n], extra, nextra * sizeof(*extra));
	ret = poll(pfd, n + nextra, timeout_ms);
	if (ret < 0)
		return errno == EINTR ? 0 : -errno;
	memcpy(extra, &pfd[n], nextra * sizeof(*extra));

	if (pfd[0].revents & POLLIN)
		do_accept(r);
	for (i = 0; i < r->nconn; i++) {
		c = &r->conn[i];
		if (c->done)
			continue;
		if (c->connecting) {
			if (pfd[2 + 2 * i].revents)
				connected(r, c);
			continue;
		}
		for (leg = 0; leg < TR_LEGS && !c->done; leg++)
			if (leg_read(r, c, leg))
				leg_write(r, c, leg);
	}
	return 0;
}

/*
 * Read all that @leg has queued, making room for it: with an empty receive
 * queue the window is open and the stream keeps coming during the dump.
 */
static bool drain(struct tr_relay *r, struct tr_relay_conn *c, int leg)
{
	struct tr_relay_buf *b = &c->buf[leg];
	int inq = tr_inq(c->fd[leg]);
	size_t need;
	char *data;

	need = b->tail - b->head + (inq > 0 ? inq : 0) + 65536;
	if (need > b->size) {
		data = realloc(b->data, need);
		if (!data) {
			fail(r, "relay", "out of memory");
			return false;
		}
		b->data = data;
		b->size = need;
	}
	return leg_read(r, c, leg);
}

/* Each leg of each connection in a migration */
struct leg_image {
	struct tr_dump d;
	int64_t drops;			/* SK_MEMINFO_DROPS after the dump */
	int copy;
	bool stream;			/* the stream came in on it */
};

struct migration {
	struct leg_image img[TR_RELAY_CONNS][TR_LEGS];
	int n;				/* its number, from 1 */
	enum tr_ns from, to;
	int64_t start, t_dump, t_window, t_move, t_restore;
};

/*
 * The leg after (*@i, *@leg) of a connection still open, false after the
 * last one: for (i = 0, leg = -1; next_leg(r, &i, &leg);) visits each.
 */
static bool next_leg(const struct tr_relay *r, int *i, int *leg)
{
	for (++*leg; *i < r->nconn; ++*i, *leg = 0)
		if (*leg < TR_LEGS && !r->conn[*i].done)
			return true;
	return false;
}

/*
 * Did anything reach the original since its dump? 1 if it was dropped
 * (the socket is frozen), 2 with the bytes in *@acked if the original
 * acknowledged data the image does not have, 0 if nothing came yet.
 */
static int arrived(int fd, const struct leg_image *im, uint32_t *acked)
{
	struct tcp_repair_window w;

	if (!tr_window_get(fd, &w) &&
	    (int32_t)(w.rcv_wup - im->d.rcv_seq) > 0) {
		*acked = w.rcv_wup - im->d.rcv_seq;
		return 2;
	}
	if (tr_drops(fd) > im->drops)
		return 1;
	return 0;
}

/*
 * Established connections only; their receive queues read empty, so that
 * the window is open when the dump starts. The legs that carried at least
 * a quarter of the busiest one's bytes since the last migration carry the
 * stream: a connection's control chatter does not.
 */
static int prepare(struct tr_relay *r, struct migration *mig)
{
	uint64_t most = 0, moved;
	struct tr_relay_conn *c;
	int i, leg;

	for (i = 0, leg = -1; next_leg(r, &i, &leg);) {
		c = &r->conn[i];
		if (c->connecting || c->eof[0] || c->eof[1]) {
			fail(r, "migration", "%d: connection %d is %s", mig->n,
			     i, c->connecting ? "being set up" : "half-closed");
			return -EBUSY;
		}
		if (c->bytes[leg] - c->mark[leg] > most)
			most = c->bytes[leg] - c->mark[leg];
		if (!drain(r, c, leg))
			return -ECONNRESET;
	}
	for (i = 0, leg = -1; next_leg(r, &i, &leg);) {
		c = &r->conn[i];
		moved = c->bytes[leg] - c->mark[leg];
		mig->img[i][leg].stream = moved >= 65536 && moved >= most / 4;
	}
	return 0;
}

/* passt: repair mode on for every socket first, then one dump each */
static int dump_all(struct tr_relay *r, struct migration *mig)
{
	struct leg_image *im;
	bool changed;
	int i, leg, err;

	for (i = 0, leg = -1; next_leg(r, &i, &leg);) {
		err = tr_repair(r->conn[i].fd[leg], TCP_REPAIR_ON);
		if (err)
			goto fail;
	}
	for (i = 0, leg = -1; next_leg(r, &i, &leg);) {
		im = &mig->img[i][leg];
		err = tr_dump_frozen(r->conn[i].fd[leg], NULL, &im->d,
				     &changed);
		if (err)
			goto fail;
		im->d.passt = true;
		r->dumps_changed += changed;
		im->drops = tr_drops(r->conn[i].fd[leg]);
		if (im->drops < 0) {
			err = im->drops;
			goto fail;
		}
	}
	return 0;
fail:
	fail(r, "migration", "%d: dump of connection %d, %s leg: %s", mig->n,
	     i, leg_name[leg], strerror(-err));
	return err;
}

static void acked_in_repair(struct tr_relay *r, const struct migration *mig,
			    int i, int leg, uint32_t acked)
{
	r->acked_bytes += acked;
	/* The bug: bytes the copy will never get */
	tr_log("relay: migration %d: original %s/%d acked %u bytes in repair",
	       mig->n, leg_name[leg], i, acked);
}

/*
 * The window: wait until the stream reaches each frozen original that
 * carried it, all within one bound; then count whatever else the other
 * originals took meanwhile.
 */
static void window(struct tr_relay *r, struct migration *mig)
{
	int64_t deadline = tr_now_ms() + TR_ARRIVAL_TIMEOUT;
	int got[TR_RELAY_CONNS][TR_LEGS] = {}, i, leg, left;
	uint32_t acked;

	do {
		left = 0;
		for (i = 0, leg = -1; next_leg(r, &i, &leg);) {
			if (!mig->img[i][leg].stream || got[i][leg])
				continue;
			got[i][leg] = arrived(r->conn[i].fd[leg],
					      &mig->img[i][leg], &acked);
			if (!got[i][leg]) {
				left++;
				continue;
			}
			r->exposed++;
			if (got[i][leg] == 2)
				acked_in_repair(r, mig, i, leg, acked);
		}
		if (left)
			tr_msleep(1);
	} while (left && tr_now_ms() < deadline);

	for (i = 0, leg = -1; next_leg(r, &i, &leg);) {
		if (!mig->img[i][leg].stream) {
			if (arrived(r->conn[i].fd[leg], &mig->img[i][leg],
				    &acked) == 2)
				acked_in_repair(r, mig, i, leg, acked);
			continue;
		}
		if (got[i][leg])
			continue;
		r->unexposed++;
		tr_log("relay: migration %d: nothing reached original %s/%d in %d ms",
		       mig->n, leg_name[leg], i, TR_ARRIVAL_TIMEOUT);
	}
}

/* Kept originals where the copies go: that passt instance has ended */
static void close_stale(struct tr_relay *r, enum tr_ns ns)
{
	int i, n = 0;

	for (i = 0; i < r->nstale; i++) {
		if (r->stale[i].ns == ns)
			close(r->stale[i].fd);
		else
			r->stale[n++] = r->stale[i];
	}
	r->nstale = n;
}

/* passt's order up to TCP_REPAIR_WINDOW, from the image of the dump */
static int restore_all(struct tr_relay *r, struct migration *mig)
{
	struct leg_image *im;
	int i, leg, err = 0;

	close_stale(r, mig->to);
	for (i = 0, leg = -1; next_leg(r, &i, &leg);) {
		im = &mig->img[i][leg];
		im->copy = tr_restore_sock(r->t->ns[mig->to], &im->d);
		err = im->copy < 0 ? im->copy :
				     tr_restore_window(im->copy, &im->d);
		if (err) {
			fail(r, "migration", "%d: restore: %s", mig->n,
			     strerror(-err));
			return err;
		}
	}
	return 0;
}

/* passt: TCP_REPAIR_OFF, then the data that was never sent */
static int go_live(struct tr_relay *r, struct migration *mig)
{
	struct leg_image *im;
	int i, leg, err = 0;

	for (i = 0, leg = -1; next_leg(r, &i, &leg);) {
		im = &mig->img[i][leg];
		err = tr_repair(im->copy, TCP_REPAIR_OFF);
		err = err ?: tr_restore_unsent(im->copy, &im->d);
		err = err ?: sock_setup(im->copy);
		if (err) {
			fail(r, "migration", "%d: copies going live: %s",
			     mig->n, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The copies carry the connections; the originals stay in repair mode */
static void hand_over(struct tr_relay *r, struct migration *mig)
{
	struct tr_relay_stale *st;
	int i, leg;

	for (i = 0, leg = -1; next_leg(r, &i, &leg);) {
		st = &r->stale[r->nstale++];
		st->fd = r->conn[i].fd[leg];
		st->ns = mig->from;
		r->conn[i].fd[leg] = mig->img[i][leg].copy;
		mig->img[i][leg].copy = -1;
		r->conn[i].mark[leg] = r->conn[i].bytes[leg];
	}
}

static void log_times(struct tr_relay *r, const struct migration *mig)
{
	tr_log("relay: migration %d to %s: %lld ms (dump %lld, window %lld,",
	       mig->n, mig->to == TR_TARGET ? "target" : "origin",
	       (long long)(r->progress_ms - mig->start),
	       (long long)(mig->t_dump - mig->start),
	       (long long)(mig->t_window - mig->t_dump));
	tr_log("relay:   addresses %lld, restore %lld, routes and live %lld)",
	       (long long)(mig->t_move - mig->t_window),
	       (long long)(mig->t_restore - mig->t_move),
	       (long long)(r->progress_ms - mig->t_restore));
}

int tr_relay_migrate(struct tr_relay *r)
{
	struct migration *mig;
	int i, leg, err;

	mig = calloc(1, sizeof(*mig));
	if (!mig) {
		fail(r, "relay", "out of memory");
		return -ENOMEM;
	}
	mig->n = r->migrations + 1;
	mig->from = r->t->service_in;
	mig->to = tr_topo_other(r->t);
	mig->start = tr_now_ms();
	for (i = 0; i < TR_RELAY_CONNS; i++)
		for (leg = 0; leg < TR_LEGS; leg++)
			mig->img[i][leg].copy = -1;

	err = prepare(r, mig);
	err = err ?: dump_all(r, mig);
	if (err)
		goto out;
	mig->t_dump = tr_now_ms();
	window(r, mig);
	mig->t_window = tr_now_ms();

	err = tr_topo_move(r->t);
	if (err) {
		fail(r, "migration", "%d: moving the addresses: %s", mig->n,
		     strerror(-err));
		goto out;
	}
	mig->t_move = tr_now_ms();
	err = restore_all(r, mig);
	if (err)
		goto out;
	mig->t_restore = tr_now_ms();
	err = tr_topo_switch(r->t);
	if (err) {
		fail(r, "migration", "%d: switching the routes: %s", mig->n,
		     strerror(-err));
		goto out;
	}
	err = go_live(r, mig);
	if (err)
		goto out;
	hand_over(r, mig);
	r->migrations++;
	r->progress_ms = tr_now_ms();
	log_times(r, mig);
out:
	for (i = 0; i < TR_RELAY_CONNS; i++) {
		for (leg = 0; leg < TR_LEGS; leg++) {
			if (mig->img[i][leg].copy >= 0)
				close(mig->img[i][leg].copy);
			tr_dump_free(&mig->img[i][leg].d);
		}
	}
	free(mig);
	return err;
}

void tr_relay_log_state(const struct tr_relay *r)
{
	struct tcp_info ti;
	int i, leg;

	for (i = 0; i < r->nconn; i++) {
		const struct tr_relay_conn *c = &r->conn[i];

		for (leg = 0; leg < TR_LEGS; leg++) {
			if (c->done || c->fd[leg] < 0 ||
			    tr_tcp_info(c->fd[leg], &ti))
				continue;
			tr_log("relay: %s/%d: %s, read %llu, buf %zu, inq %d, outq %d, nsd %d",
			       leg_name[leg], i, tr_state_str(ti.tcpi_state),
			       (unsigned long long)c->bytes[leg],
			       c->buf[leg].tail - c->buf[leg].head,
			       tr_inq(c->fd[leg]), tr_outq(c->fd[leg]),
			       tr_outq_nsd(c->fd[leg]));
			tr_log("relay: %s/%d: unacked %u, lost %u, retr %u, backoff %u, rto %u us",
			       leg_name[leg], i, ti.tcpi_unacked, ti.tcpi_lost,
			       ti.tcpi_retransmits, ti.tcpi_backoff,
			       ti.tcpi_rto);
			/* tcpi_snd_wnd and tcpi_rcv_wnd are not in 6.1 */
			tr_log("relay: %s/%d: cwnd %u, rcv_space %u",
			       leg_name[leg], i, ti.tcpi_snd_cwnd,
			       ti.tcpi_rcv_space);
		}
	}
}

void tr_verdict_set(struct tr_verdict *v, const char *reason,
		    const char *fmt, ...)
{
	va_list ap;

	if (v->reason[0])
		return;
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
}

void tr_relay_verdict(const struct tr_relay *r, struct tr_verdict *v)
{
	if (r->reason[0])
		tr_verdict_set(v, r->reason, "%s", r->error);
}

void tr_relay_check(const struct tr_relay *r, int want, struct tr_verdict *v)
{
	if (r->migrations != want)
		tr_verdict_set(v, "migration", "%d of %d migrations completed",
			       r->migrations, want);
	else if (r->unexposed)
		tr_verdict_set(v, "migration",
			       "in %d windows nothing reached the original: not tested",
			       r->unexposed);
	else if (r->dumps_changed)
		tr_verdict_set(v, "migration",
			       "%d sockets changed in repair mode while dumped",
			       r->dumps_changed);
}

int tr_relay_stall_ms(const struct tr_relay *r)
{
	return r->acked_bytes ? TR_MIG_LOSS_STALL_MS : TR_MIG_STALL_MS;
}

bool tr_relay_due(const struct tr_relay *r, int want, uint64_t done,
		  uint64_t total)
{
	return r->migrations < want &&
	       done >= (r->migrations + 1) * (total / (want + 2));
}

void tr_relay_report(const struct tr_relay *r, int want,
		     const struct tr_verdict *v)
{
	tr_log("%d of %d migrations; stream at originals in repair: %d times, missed %d",
	       r->migrations, want, r->exposed, r->unexposed);
	tr_log("originals acknowledged %llu bytes in repair mode, %d changed while dumped",
	       (unsigned long long)r->acked_bytes, r->dumps_changed);
	if (v->reason[0])
		tr_log("FAIL: %s: %s", v->reason, v->detail);
}

int tr_mig_init(struct tr_mig *m, int family)
{
	int err;

	m->relay_on = false;
	err = tr_topo_init(&m->topo, family, TR_TOPO_GUEST);
	if (err)
		return err;
	err = tr_relay_start(&m->relay, &m->topo, TR_MIG_PORT, TR_MIG_PORT);
	if (err) {
		tr_topo_fini(&m->topo);
		return err;
	}
	m->relay_on = true;
	return 0;
}

void tr_mig_fini(struct tr_mig *m)
{
	if (m->relay_on)
		tr_relay_stop(&m->relay);
	m->relay_on = false;
	tr_topo_fini(&m->topo);
}
