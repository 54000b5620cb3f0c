// SPDX-License-Identifier: GPL-2.0
/*
 * Migration downtime: dump and restore established connections with
 * TCP_REPAIR, COUNT at a time, the way a checkpoint/restore tool moves a
 * process: every connection is dumped (repair on, sequences, queues, options,
 * window; it stays frozen), the old sockets are closed, and every connection
 * is rebuilt (new socket in repair mode, bind, connect, options, queues,
 * window, repair off). Old and new socket are in the same namespace with the
 * same address: the figures are the cost of the repair interface, no address
 * moves. Each connection has 64 bytes queued in its receive queue.
 *
 * Per connection: dump time + restore time (median, p99 over every connection
 * of every round). Per batch: from the first repair on to the last repair off
 * (the downtime of the batch, closes included). Every restored connection is
 * checked afterwards: its queued bytes, and one byte each way.
 *
 * Usage: migrate -n PEER_NETNS -l LOCAL_ADDR -r PEER_ADDR [-s SAMPLES] COUNT...
 * ROUNDS per COUNT is SAMPLES / COUNT (at least 1), SAMPLES defaults to 1000.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define PORT	7001
#define QLEN	64

struct conn {
	int cli, srv;
	struct tr_dump img;
};

static int check(struct conn *c, int round)
{
	char want[QLEN], buf[QLEN];

	memset(want, 'a' + round % 26, sizeof(want));
	if (read(c->cli, buf, QLEN) != QLEN || memcmp(buf, want, QLEN))
		return -1;
	if (tr_send_all(c->cli, "q", 1, 5000) != 1 ||
	    tr_send_all(c->srv, "r", 1, 5000) != 1 ||
	    tr_wait_inq(c->srv, 1, 5000) || tr_wait_inq(c->cli, 1, 5000))
		return -1;
	if (read(c->srv, buf, 1) != 1 || buf[0] != 'q' ||
	    read(c->cli, buf, 1) != 1 || buf[0] != 'r')
		return -1;
	return 0;
}

/* One round: returns the batch downtime, adds per-connection samples. */
static uint64_t round_trip(int lfd, struct conn *c, int count, int round,
			   uint64_t *dump, uint64_t *restore, int *failed)
{
	uint64_t start, end, t0;
	char data[QLEN];
	int i;

	memset(data, 'a' + round % 26, sizeof(data));
	for (i = 0; i < count; i++) {
		if (tr_connect_to(lfd, -1, NULL, 0, &c[i].cli, &c[i].srv) ||
		    tr_send_all(c[i].srv, data, sizeof(data), 5000) != QLEN)
			die("connection %d", i);
	}
	for (i = 0; i < count; i++)
		if (tr_wait_inq(c[i].cli, QLEN, 5000))
			die("connection %d: queued data did not arrive", i);

	start = now_ns();
	for (i = 0; i < count; i++) {
		t0 = now_ns();
		if (tr_dump(c[i].cli, &c[i].img))
			die("dump of connection %d", i);
		dump[i] = now_ns() - t0;
	}
	for (i = 0; i < count; i++)
		close(c[i].cli);
	for (i = 0; i < count; i++) {
		t0 = now_ns();
		c[i].cli = tr_restore(-1, &c[i].img, TCP_REPAIR_OFF);
		if (c[i].cli < 0)
			die("restore of connection %d", i);
		restore[i] = now_ns() - t0;
	}
	end = now_ns();

	for (i = 0; i < count; i++) {
		if (check(&c[i], round))
			(*failed)++;
		tr_dump_free(&c[i].img);
		close(c[i].cli);
		close(c[i].srv);
	}
	return end - start;
}

static void usage(void)
{
	fprintf(stderr, "usage: migrate -n PEER_NETNS -l LOCAL_ADDR -r PEER_ADDR [-s SAMPLES] COUNT...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *peer_ns = NULL, *local = NULL, *peer = NULL;
	int samples = 1000, count, rounds, failed, lfd, ns, r, a, c;
	uint64_t *dump, *restore, *sum, *batch;
	struct stats sd, sr, ss, sb;
	size_t n, i;
	struct sockaddr_storage sa;
	struct conn *conns;

	while ((c = getopt(argc, argv, "n:l:r:s:")) != -1) {
		switch (c) {
		case 'n':
			peer_ns = optarg;
			break;
		case 'l':
			local = optarg;
			break;
		case 'r':
			peer = optarg;
			break;
		case 's':
			samples = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (!peer_ns || !local || !peer || optind >= argc || samples < 1)
		usage();

	raise_nofile(16384);
	tr_sockaddr(AF_INET, peer, PORT, &sa);
	ns = tr_ns_open(peer_ns);
	lfd = ns < 0 ? ns : tr_listen(ns, &sa, 1);
	if (lfd < 0)
		die("listener in %s", peer_ns);

	printf("| connections | rounds | dump + restore per connection, median µs | p99 µs | dump median µs | restore median µs | batch downtime, median ms | restored connections failing the check |\n");
	printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
	for (a = optind; a < argc; a++) {
		count = atoi(argv[a]);
		if (count < 1)
			usage();
		rounds = samples / count > 0 ? samples / count : 1;
		conns = calloc(count, sizeof(*conns));
		n = (size_t)count * rounds;
		dump = calloc(n, sizeof(*dump));
		restore = calloc(n, sizeof(*restore));
		sum = calloc(n, sizeof(*sum));
		batch = calloc(rounds, sizeof(*batch));
		if (!conns || !dump || !restore || !sum || !batch)
			die("calloc");
		failed = 0;
		for (r = 0; r < rounds; r++)
			batch[r] = round_trip(lfd, conns, count, r,
					      dump + (size_t)r * count,
					      restore + (size_t)r * count, &failed);
		fprintf(stderr, "migrate: %d connections x %d rounds done\n",
			count, rounds);
		for (i = 0; i < n; i++)
			sum[i] = dump[i] + restore[i];
		stats_of(sum, n, &ss);
		stats_of(dump, n, &sd);
		stats_of(restore, n, &sr);
		stats_of(batch, rounds, &sb);
		printf("| %d | %d | %.1f | %.1f | %.1f | %.1f | %.2f | %d of %zu |\n",
		       count, rounds, ss.median, ss.p99, sd.median, sr.median,
		       sb.median / 1e3, failed, n);
		fflush(stdout);
		free(conns);
		free(dump);
		free(restore);
		free(sum);
		free(batch);
	}
	return 0;
}
