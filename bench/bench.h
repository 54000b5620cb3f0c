/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the TCP_REPAIR benchmarks: time, statistics, network
 * namespaces, TCP connections and the repair-mode dump and restore of a
 * connection.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
uint64_t now_ns(void);
void raise_nofile(unsigned long n);

struct stats {
	size_t n;
	double min, median, p99, max;	/* microseconds */
};

/* Sorts v (nanoseconds) in place; nearest-rank median and p99. */
void stats_of(uint64_t *v, size_t n, struct stats *s);

/* Switch the calling thread to the netns at path, or back to the initial one
 * with NULL. Sockets keep the namespace they were created in.
 */
void netns_set(const char *path);

void addr_parse(const char *s, uint16_t port, struct sockaddr_in *sa);
int tcp_listener(const struct sockaddr_in *sa, int backlog);
/* Connect to the listener at sa (in the current namespace), accept it from
 * lfd: *cli is the connected socket, *srv the accepted one.
 */
void tcp_pair(int lfd, const struct sockaddr_in *sa, int *cli, int *srv);
void write_all(int fd, const void *buf, size_t len);
/* Wait up to ms milliseconds until fd has at least len bytes to read. */
int wait_inq(int fd, int len, int ms);
int inq(int fd);

/* Everything a restore needs, read from a socket in repair mode. */
struct tcp_img {
	struct sockaddr_in src, dst;
	uint32_t snd_seq, rcv_seq;	/* write_seq and rcv_nxt */
	uint32_t tsval;
	int mss;
	uint8_t snd_wscale, rcv_wscale, options;
	struct tcp_repair_window win;
	int sndq_len, rcvq_len;
	char *sndq, *rcvq;
};

/* Repair on, read the image; the socket stays in repair mode (frozen). */
int tcp_dump(int fd, struct tcp_img *img);
/* New socket rebuilt from img, out of repair mode; -1 on failure. */
int tcp_restore(const struct tcp_img *img);
void tcp_img_free(struct tcp_img *img);

#endif
