// SPDX-License-Identifier: GPL-2.0
/* Helpers shared by the TCP_REPAIR benchmarks, see bench.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "bench.h"

void die(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "error: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	exit(1);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void raise_nofile(unsigned long n)
{
	struct rlimit rl = { .rlim_cur = n, .rlim_max = n };

	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit(RLIMIT_NOFILE, %lu)", n);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void stats_of(uint64_t *v, size_t n, struct stats *s)
{
	size_t r99;

	memset(s, 0, sizeof(*s));
	s->n = n;
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_u64);
	r99 = (n * 99 + 99) / 100;	/* nearest rank: ceil(0.99 n) */
	s->min = v[0] / 1e3;
	s->median = v[(n - 1) / 2] / 1e3;
	s->p99 = v[r99 - 1] / 1e3;
	s->max = v[n - 1] / 1e3;
}

void netns_set(const char *path)
{
	static int home = -1;
	int fd;

	if (home < 0) {
		home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (home < 0)
			die("open /proc/self/ns/net");
	}
	if (!path) {
		if (setns(home, CLONE_NEWNET))
			die("setns back to the initial namespace");
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s", path);
	if (setns(fd, CLONE_NEWNET))
		die("setns %s", path);
	close(fd);
}

void addr_parse(const char *s, uint16_t port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	errno = 0;
	if (inet_pton(AF_INET, s, &sa->sin_addr) != 1)
		die("bad IPv4 address '%s'", s);
}

int tcp_listener(const struct sockaddr_in *sa, int backlog)
{
	int one = 1, fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("SO_REUSEADDR");
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)))
		die("bind listener");
	if (listen(fd, backlog))
		die("listen");
	return fd;
}

void tcp_pair(int lfd, const struct sockaddr_in *sa, int *cli, int *srv)
{
	*cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*cli < 0)
		die("socket");
	if (connect(*cli, (const struct sockaddr *)sa, sizeof(*sa)))
		die("connect");
	*srv = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (*srv < 0)
		die("accept");
}

void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0)
			die("write");
		p += n;
		len -= n;
	}
}

int inq(int fd)
{
	int n;

	if (ioctl(fd, SIOCINQ, &n))
		die("SIOCINQ");
	return n;
}

int wait_inq(int fd, int len, int ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000;

	while (inq(fd) < len) {
		if (now_ns() > end)
			return -1;
		usleep(1000);
	}
	return 0;
}

static int set_int(int fd, int opt, int val)
{
	return setsockopt(fd, IPPROTO_TCP, opt, &val, sizeof(val));
}

static int get_int(int fd, int opt, void *val)
{
	socklen_t len = sizeof(int);

	return getsockopt(fd, IPPROTO_TCP, opt, val, &len);
}

/* Peek at the queue selected with TCP_REPAIR_QUEUE. */
static int peek_queue(int fd, int q, int len, char **buf)
{
	*buf = NULL;
	if (set_int(fd, TCP_REPAIR_QUEUE, q))
		return -1;
	if (!len)
		return 0;
	*buf = malloc(len);
	if (!*buf)
		return -1;
	if (recv(fd, *buf, len, MSG_PEEK | MSG_DONTWAIT) != len)
		return -1;
	return 0;
}

int tcp_dump(int fd, struct tcp_img *img)
{
	socklen_t len;
	struct tcp_info ti;

	memset(img, 0, sizeof(*img));
	if (set_int(fd, TCP_REPAIR, TCP_REPAIR_ON))
		return -1;
	len = sizeof(img->src);
	if (getsockname(fd, (struct sockaddr *)&img->src, &len))
		return -1;
	len = sizeof(img->dst);
	if (getpeername(fd, (struct sockaddr *)&img->dst, &len))
		return -1;
	if (ioctl(fd, SIOCOUTQ, &img->sndq_len) ||
	    ioctl(fd, SIOCINQ, &img->rcvq_len))
		return -1;

	if (peek_queue(fd, TCP_SEND_QUEUE, img->sndq_len, &img->sndq) ||
	    get_int(fd, TCP_QUEUE_SEQ, &img->snd_seq))
		return -1;
	if (peek_queue(fd, TCP_RECV_QUEUE, img->rcvq_len, &img->rcvq) ||
	    get_int(fd, TCP_QUEUE_SEQ, &img->rcv_seq))
		return -1;

	len = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -1;
	img->snd_wscale = ti.tcpi_snd_wscale;
	img->rcv_wscale = ti.tcpi_rcv_wscale;
	img->options = ti.tcpi_options;
	if (get_int(fd, TCP_MAXSEG, &img->mss) ||
	    get_int(fd, TCP_TIMESTAMP, &img->tsval))
		return -1;
	len = sizeof(img->win);
	if (getsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &img->win, &len))
		return -1;
	return 0;
}

static int restore_options(int fd, const struct tcp_img *img)
{
	struct tcp_repair_opt opt[4];
	int n = 0;

	opt[n].opt_code = TCPOPT_MAXSEG;
	opt[n++].opt_val = img->mss;
	if (img->options & TCPI_OPT_WSCALE) {
		opt[n].opt_code = TCPOPT_WINDOW;
		opt[n++].opt_val = img->snd_wscale | (img->rcv_wscale << 16);
	}
	if (img->options & TCPI_OPT_TIMESTAMPS) {
		opt[n].opt_code = TCPOPT_TIMESTAMP;
		opt[n++].opt_val = 0;
	}
	if (img->options & TCPI_OPT_SACK) {
		opt[n].opt_code = TCPOPT_SACK_PERMITTED;
		opt[n++].opt_val = 0;
	}
	return setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_OPTIONS, opt,
			  n * sizeof(opt[0]));
}

/* Start the selected queue len bytes before the dumped sequence. */
static int set_queue_seq(int fd, int q, uint32_t seq, int len)
{
	if (set_int(fd, TCP_REPAIR_QUEUE, q) ||
	    set_int(fd, TCP_QUEUE_SEQ, seq - len))
		return -1;
	return 0;
}

int tcp_restore(const struct tcp_img *img)
{
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (set_int(fd, TCP_REPAIR, TCP_REPAIR_ON) ||
	    set_queue_seq(fd, TCP_SEND_QUEUE, img->snd_seq, img->sndq_len) ||
	    set_queue_seq(fd, TCP_RECV_QUEUE, img->rcv_seq, img->rcvq_len) ||
	    set_int(fd, TCP_TIMESTAMP, img->tsval))
		goto fail;
	if (bind(fd, (const struct sockaddr *)&img->src, sizeof(img->src)) ||
	    connect(fd, (const struct sockaddr *)&img->dst, sizeof(img->dst)))
		goto fail;
	if (restore_options(fd, img))
		goto fail;
	/* The receive queue is still selected. */
	if (img->rcvq_len &&
	    send(fd, img->rcvq, img->rcvq_len, 0) != img->rcvq_len)
		goto fail;
	if (img->sndq_len &&
	    (set_int(fd, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE) ||
	     send(fd, img->sndq, img->sndq_len, 0) != img->sndq_len))
		goto fail;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &img->win,
		       sizeof(img->win)) ||
	    set_int(fd, TCP_REPAIR, TCP_REPAIR_OFF))
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

void tcp_img_free(struct tcp_img *img)
{
	free(img->sndq);
	free(img->rcvq);
	img->sndq = NULL;
	img->rcvq = NULL;
}
