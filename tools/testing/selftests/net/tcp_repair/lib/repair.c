// SPDX-License-Identifier: GPL-2.0
/*
 * Dump a TCP socket in repair mode and rebuild it elsewhere: the one dump
 * and the one restore of the tests and the benchmarks.
 *
 * Both follow passt's order (tcp.c: tcp_flow_migrate_source_ext(),
 * tcp_flow_repair_socket(), tcp_flow_migrate_target_ext()), a migration
 * tool in daily use. It is also the order that lets the kernel tell a
 * socket being rebuilt from a live one: TCP_TIMESTAMP is set before
 * connect() (so no segment ever carries an unshifted TSval), and the
 * window is restored before repair mode is left.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcp_repair.h"

/* TCP option kinds, as TCP_REPAIR_OPTIONS wants them */
#define TR_TCPOPT_MSS		2
#define TR_TCPOPT_WINDOW	3
#define TR_TCPOPT_SACK_PERM	4
#define TR_TCPOPT_TIMESTAMP	8

uint32_t tr_dump_snd_una(const struct tr_dump *d)
{
	return d->snd_seq - d->sndq_len;
}

uint32_t tr_dump_sndq_data(const struct tr_dump *d)
{
	return d->sndq_len - d->fin_queued;
}

uint32_t tr_dump_unsent_data(const struct tr_dump *d)
{
	/* The FIN is last in the queue: if anything is unsent, it is too */
	return d->unsent_len && d->fin_queued ? d->unsent_len - 1 :
						d->unsent_len;
}

int tr_repair(int fd, int mode)
{
	return tr_setsockopt(fd, SOL_TCP, TCP_REPAIR, mode, "TCP_REPAIR");
}

int tr_repair_queue(int fd, int queue)
{
	return tr_setsockopt(fd, SOL_TCP, TCP_REPAIR_QUEUE, queue,
			      "TCP_REPAIR_QUEUE");
}

int tr_queue_seq(int fd, int queue, uint32_t *seq)
{
	int err, val;

	err = tr_repair_queue(fd, queue);
	err = err ?: tr_getsockopt(fd, SOL_TCP, TCP_QUEUE_SEQ, &val,
				    "TCP_QUEUE_SEQ");
	if (!err)
		*seq = val;
	return err;
}

int tr_window_get(int fd, struct tcp_repair_window *w)
{
	socklen_t len = sizeof(*w);

	if (getsockopt(fd, SOL_TCP, TCP_REPAIR_WINDOW, w, &len)) {
		int err = -errno;

		tr_log("getsockopt(TCP_REPAIR_WINDOW): %s", strerror(errno));
		return err;
	}
	return 0;
}

/* Copy @len bytes of the queue selected with TCP_REPAIR_QUEUE. */
static int peek_queue(int fd, uint32_t len, char **out, const char *name)
{
	char *buf;
	ssize_t n;

	*out = NULL;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	n = len ? recv(fd, buf, len, MSG_PEEK | MSG_DONTWAIT) : 0;
	if (n != (ssize_t)len) {
		int err = n < 0 ? -errno : -EIO;

		tr_log("peeking %u bytes of the %s queue: %s", len, name,
		       n < 0 ? strerror(errno) : "short read");
		free(buf);
		return err;
	}
	*out = buf;
	return 0;
}

/* The queue, its length(s) and its sequence, in passt's order */
static int dump_sndq(int fd, struct tr_dump *d)
{
	int err, outq, nsd;

	err = tr_repair_queue(fd, TCP_SEND_QUEUE);
	if (err)
		return err;
	outq = tr_outq(fd);
	nsd = tr_outq_nsd(fd);
	if (outq < 0 || nsd < 0)
		return outq < 0 ? outq : nsd;
	d->sndq_len = outq;
	d->unsent_len = nsd;
	/* A FIN we sent and nobody acknowledged takes a sequence number */
	d->fin_queued = outq && (1 << d->state) & (1 << TR_FIN_WAIT1 |
						   1 << TR_CLOSING |
						   1 << TR_LAST_ACK);
	err = peek_queue(fd, tr_dump_sndq_data(d), &d->sndq, "send");
	return err ?: tr_queue_seq(fd, TCP_SEND_QUEUE, &d->snd_seq);
}

static int dump_rcvq(int fd, struct tr_dump *d)
{
	int err, inq;

	err = tr_repair_queue(fd, TCP_RECV_QUEUE);
	if (err)
		return err;
	inq = tr_inq(fd);
	if (inq < 0)
		return inq;
	d->rcvq_len = inq;
	err = peek_queue(fd, d->rcvq_len, &d->rcvq, "receive");
	return err ?: tr_queue_seq(fd, TCP_RECV_QUEUE, &d->rcv_seq);
}

void tr_dump_free(struct tr_dump *d)
{
	free(d->sndq);
	free(d->rcvq);
	d->sndq = NULL;
	d->rcvq = NULL;
}

static int dump_addrs(int fd, const struct sockaddr_storage *peer,
		      struct tr_dump *d)
{
	socklen_t len = sizeof(d->self);

	if (getsockname(fd, (struct sockaddr *)&d->self, &len)) {
		tr_log("getsockname(): %s", strerror(errno));
		return -errno;
	}
	len = sizeof(d->peer);
	if (getpeername(fd, (struct sockaddr *)&d->peer, &len)) {
		if (errno != ENOTCONN || !peer) {
			tr_log("getpeername(): %s", strerror(errno));
			return -errno;
		}
		/* SYN_SENT and CLOSE keep their peer but do not tell it */
		d->peer = *peer;
	}
	d->family = d->self.ss_family;
	return 0;
}

/* A socket still moving under us gives an inconsistent image */
static int dump_moved(int fd, const struct tr_dump *d, bool *moved)
{
	uint32_t rcv_seq, snd_seq;
	int err;

	err = tr_queue_seq(fd, TCP_RECV_QUEUE, &rcv_seq);
	err = err ?: tr_queue_seq(fd, TCP_SEND_QUEUE, &snd_seq);
	if (err)
		return err;
	*moved = rcv_seq != d->rcv_seq || snd_seq != d->snd_seq ||
		 tr_inq(fd) != (int)d->rcvq_len ||
		 tr_outq(fd) != (int)d->sndq_len;
	return 0;
}

int tr_dump_frozen(int fd, const struct sockaddr_storage *peer,
		   struct tr_dump *d, bool *changed)
{
	struct tcp_info ti;
	bool moved;
	int err, val;

	memset(d, 0, sizeof(*d));
	if (changed)
		*changed = false;
	err = dump_addrs(fd, peer, d);
	err = err ?: tr_tcp_info(fd, &ti);
	if (err)
		return err;
	d->state = ti.tcpi_state;
	d->options = ti.tcpi_options;
	d->snd_wscale = ti.tcpi_snd_wscale;
	d->rcv_wscale = ti.tcpi_rcv_wscale;

	/* In repair mode TCP_MAXSEG reports the MSS clamp */
	err = tr_getsockopt(fd, SOL_TCP, TCP_MAXSEG, &val, "TCP_MAXSEG");
	if (err)
		goto fail;
	d->mss = val;
	err = tr_getsockopt(fd, SOL_TCP, TCP_TIMESTAMP, &val, "TCP_TIMESTAMP");
	if (err)
		goto fail;
	d->tsval = val;
	err = tr_window_get(fd, &d->wnd);
	err = err ?: dump_sndq(fd, d);
	err = err ?: dump_rcvq(fd, d);
	/* Not part of passt's image: CRIU's, for the restored buffers */
	err = err ?: tr_getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &d->sndbuf,
				   "SO_SNDBUF");
	err = err ?: tr_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &d->rcvbuf,
				   "SO_RCVBUF");
	err = err ?: dump_moved(fd, d, &moved);
	if (err)
		goto fail;
	if (moved) {
		if (!changed) {
			tr_log("the socket changed while it was dumped");
			err = -EAGAIN;
			goto fail;
		}
		*changed = true;
	}
	err = tr_repair_queue(fd, TCP_NO_QUEUE);
	if (err)
		goto fail;
	return 0;

fail:
	tr_dump_free(d);
	return err;
}

int tr_dump_peer(int fd, const struct sockaddr_storage *peer,
		 struct tr_dump *d)
{
	int reuse, err;

	/* Repair mode forces it: read the application's value first */
	reuse = tr_sockopt_get(fd, SOL_SOCKET, SO_REUSEADDR);
	if (reuse < 0) {
		tr_log("getsockopt(SO_REUSEADDR): %s", strerror(-reuse));
		return reuse;
	}
	err = tr_repair(fd, TCP_REPAIR_ON);
	err = err ?: tr_dump_frozen(fd, peer, d, NULL);
	if (!err)
		d->reuseaddr = reuse;
	return err;
}

int tr_dump(int fd, struct tr_dump *d)
{
	return tr_dump_peer(fd, NULL, d);
}

/* Write @len bytes into the queue selected with TCP_REPAIR_QUEUE. */
static int write_queue(int fd, const char *buf, uint32_t len,
		       const char *name)
{
	uint32_t done = 0;
	ssize_t n;

	while (done < len) {
		n = send(fd, buf + done, len - done,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;

			tr_log("restoring the %s queue: %u of %u bytes: %s",
			       name, done, len,
			       n < 0 ? strerror(errno) : "no progress");
			return err;
		}
		done += n;
	}
	return 0;
}

/*
 * The *FORCE variants (CAP_NET_ADMIN) pass net.core.[rw]mem_max, which a
 * queue of a socket with a large buffer needs; the plain ones otherwise.
 */
static int set_buffer(int fd, int force, int name, int val, const char *what)
{
	if (!setsockopt(fd, SOL_SOCKET, force, &val, sizeof(val)))
		return 0;
	return tr_setsockopt(fd, SOL_SOCKET, name, val, what);
}

/* Room for the queues even if the original buffer had been autotuned. */
static int restore_buffers(int fd, const struct tr_dump *d)
{
	int cur, want, err;

	err = tr_getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, "SO_SNDBUF");
	want = d->sndbuf > (int)(4 * d->sndq_len) ? d->sndbuf :
						    (int)(4 * d->sndq_len);
	if (!err && want > cur)
		err = set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, want / 2,
				 "SO_SNDBUF");
	if (err)
		return err;
	err = tr_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cur, "SO_RCVBUF");
	want = d->rcvbuf > (int)(4 * d->rcvq_len) ? d->rcvbuf :
						    (int)(4 * d->rcvq_len);
	if (!err && want > cur)
		err = set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, want / 2,
				 "SO_RCVBUF");
	return err;
}

static int restore_options(int fd, const struct tr_dump *d)
{
	struct tcp_repair_opt opts[4];
	int n = 0;

	opts[n].opt_code = TR_TCPOPT_MSS;
	opts[n++].opt_val = d->mss;
	if (d->options & TCPI_OPT_WSCALE) {
		opts[n].opt_code = TR_TCPOPT_WINDOW;
		opts[n++].opt_val = d->snd_wscale | (d->rcv_wscale << 16);
	}
	if (d->options & TCPI_OPT_SACK) {
		opts[n].opt_code = TR_TCPOPT_SACK_PERM;
		opts[n++].opt_val = 0;
	}
	if (d->options & TCPI_OPT_TIMESTAMPS) {
		opts[n].opt_code = TR_TCPOPT_TIMESTAMP;
		opts[n++].opt_val = 0;
	}
	if (setsockopt(fd, SOL_TCP, TCP_REPAIR_OPTIONS, opts,
		       n * sizeof(opts[0]))) {
		int err = -errno;

		tr_log("setsockopt(TCP_REPAIR_OPTIONS): %s", strerror(errno));
		return err;
	}
	return 0;
}

/* bind() to the dumped local address, connect() to the dumped peer */
static int bind_self(int fd, const struct tr_dump *d)
{
	int err;

	if (!bind(fd, (struct sockaddr *)&d->self, tr_addr_len(&d->self)))
		return 0;
	err = errno;
	tr_log("bind(%s): %s", tr_addr_str(&d->self), strerror(err));
	return -err;
}

static int connect_peer(int fd, const struct tr_dump *d)
{
	int err;

	if (!connect(fd, (struct sockaddr *)&d->peer, tr_addr_len(&d->peer)) ||
	    errno == EINPROGRESS)
		return 0;
	err = errno;
	tr_log("connect(%s): %s", tr_addr_str(&d->peer), strerror(err));
	return -err;
}

int tr_restore_sock(int ns, const struct tr_dump *d)
{
	uint32_t sent = tr_dump_sndq_data(d) - tr_dump_unsent_data(d);
	int fd, err;

	fd = tr_ns_socket(ns, d->family, SOCK_STREAM | SOCK_CLOEXEC,
			  IPPROTO_TCP);
	if (fd < 0)
		return fd;
	err = restore_buffers(fd, d);
	/* passt sets it on every socket it restores; CRIU restores it */
	if (!err && (d->reuseaddr || d->passt))
		err = tr_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1,
				    "SO_REUSEADDR");
	err = err ?: tr_repair(fd, TCP_REPAIR_ON);
	err = err ?: bind_self(fd, d);
	/* Before connect(): every segment from now on carries the offset */
	err = err ?: tr_setsockopt(fd, SOL_TCP, TCP_TIMESTAMP, d->tsval,
				   "TCP_TIMESTAMP");
	err = err ?: tr_repair_queue(fd, TCP_SEND_QUEUE);
	err = err ?: tr_setsockopt(fd, SOL_TCP, TCP_QUEUE_SEQ,
				   tr_dump_snd_una(d),
				   "TCP_QUEUE_SEQ, send queue");
	err = err ?: tr_repair_queue(fd, TCP_RECV_QUEUE);
	err = err ?: tr_setsockopt(fd, SOL_TCP, TCP_QUEUE_SEQ,
				   d->rcv_seq - d->rcvq_len,
				   "TCP_QUEUE_SEQ, receive queue");
	/* In repair mode connect() sends nothing: ESTABLISHED at once */
	err = err ?: connect_peer(fd, d);
	if (err)
		goto fail;

	/*
	 * What was sent goes back as sent: it is not transmitted now. Where
	 * the options go matters to the copy. Measured on 6.18 (roundtrip):
	 * with the queues written before the options (passt), the copy
	 * resends the unacknowledged data only when its retransmission
	 * timer fires, after the 3 s of a connection without an RTT sample
	 * (one TcpExtTCPTimeouts); with the options first, the peer's SACKs
	 * of the unsent data get it resent at once.
	 */
	if (d->passt) {
		err = write_queue(fd, d->rcvq, d->rcvq_len, "receive");
		err = err ?: tr_repair_queue(fd, TCP_SEND_QUEUE);
		err = err ?: write_queue(fd, d->sndq, sent, "send");
		err = err ?: restore_options(fd, d);
	} else {
		err = restore_options(fd, d);
		err = err ?: tr_repair_queue(fd, TCP_SEND_QUEUE);
		err = err ?: write_queue(fd, d->sndq, sent, "send");
		err = err ?: tr_repair_queue(fd, TCP_RECV_QUEUE);
		err = err ?: write_queue(fd, d->rcvq, d->rcvq_len, "receive");
	}
	err = err ?: tr_repair_queue(fd, TCP_NO_QUEUE);
	if (err)
		goto fail;
	return fd;

fail:
	close(fd);
	return err;
}

/*
 * The dumped rcv_wup may lie beyond the restored rcv_nxt when the image was
 * rebuilt one byte short (a FIN re-created by injection): the kernel refuses
 * that, so bring it back to rcv_nxt.
 */
int tr_restore_window(int fd, const struct tr_dump *d)
{
	struct tcp_repair_window w = d->wnd;
	uint32_t rcv_nxt;
	int err;

	err = tr_queue_seq(fd, TCP_RECV_QUEUE, &rcv_nxt);
	err = err ?: tr_repair_queue(fd, TCP_NO_QUEUE);
	if (err)
		return err;
	if ((int32_t)(w.rcv_wup - rcv_nxt) > 0)
		w.rcv_wup = rcv_nxt;
	if ((int32_t)(w.snd_wl1 - (rcv_nxt + w.rcv_wnd)) > 0)
		w.snd_wl1 = rcv_nxt;
	if (setsockopt(fd, SOL_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w))) {
		err = -errno;
		tr_log("setsockopt(TCP_REPAIR_WINDOW): %s", strerror(errno));
		return err;
	}
	return 0;
}

/* The bytes that were never sent go through the normal send path. */
int tr_restore_unsent(int fd, const struct tr_dump *d)
{
	uint32_t len = tr_dump_unsent_data(d);
	const char *unsent = d->sndq + tr_dump_sndq_data(d) - len;
	ssize_t n;

	if (!len)
		return 0;
	n = tr_send_all(fd, unsent, len, TR_SETUP_TIMEOUT);
	if (n != (ssize_t)len) {
		tr_log("writing %u unsent bytes: %s", len,
		       n < 0 ? strerror(-n) : "send buffer full");
		return n < 0 ? n : -ENOBUFS;
	}
	return 0;
}

int tr_restore_unsent_repair(int fd, const struct tr_dump *d)
{
	uint32_t len = tr_dump_unsent_data(d);
	const char *unsent = d->sndq + tr_dump_sndq_data(d) - len;
	int err;

	err = tr_repair_queue(fd, TCP_SEND_QUEUE);
	err = err ?: write_queue(fd, unsent, len, "send");
	return err ?: tr_repair_queue(fd, TCP_NO_QUEUE);
}

int tr_restore_syn_sent(int ns, const struct tr_dump *d)
{
	int fd, err;

	fd = tr_ns_socket(ns, d->family,
			  SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			  IPPROTO_TCP);
	if (fd < 0)
		return fd;
	err = tr_repair(fd, TCP_REPAIR_ON);
	err = err ?: tr_repair_queue(fd, TCP_SEND_QUEUE);
	/* write_seq is one past the SYN: the SYN goes out with the old ISN */
	err = err ?: tr_setsockopt(fd, SOL_TCP, TCP_QUEUE_SEQ, d->snd_seq - 1,
				    "TCP_QUEUE_SEQ, send queue");
	if (err)
		goto fail;
	err = bind_self(fd, d);
	err = err ?: tr_repair(fd, TCP_REPAIR_OFF);
	err = err ?: connect_peer(fd, d);
	err = err ?: tr_repair(fd, TCP_REPAIR_ON);
	if (err)
		goto fail;
	return fd;

fail:
	close(fd);
	return err;
}

int tr_restore(int ns, const struct tr_dump *d, int off_mode)
{
	int fd, err;

	fd = tr_restore_sock(ns, d);
	if (fd < 0)
		return fd;
	err = tr_restore_window(fd, d);
	err = err ?: tr_repair(fd, off_mode);
	err = err ?: tr_restore_unsent(fd, d);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}
