// SPDX-License-Identifier: GPL-2.0
/*
 * Freeze cost: how long it takes to freeze an established connection, that
 * is to make the peer's segments stop changing it, by
 *   repair    setsockopt(TCP_REPAIR, TCP_REPAIR_ON): the patched kernel drops
 *             every segment to a live socket in repair mode;
 *   nft       running "nft add rule inet bench in ip saddr PEER tcp sport
 *             PORT drop" (table and input chain exist beforehand);
 *   nft-cli   the same rule written to a running "nft -e -i", until its
 *             echo of the new ruleset generation (no fork/exec, no
 *             library loading: parse, netlink transaction, commit);
 *   route-ip  running "ip route add blackhole PEER/32": with strict
 *             reverse-path filtering the peer's packets are dropped on input;
 *   route-nl  the same route added by one RTM_NEWROUTE request, acked
 *             (the selftests' rtnetlink layer, on a socket opened before).
 * Latency is from the start of the request until it returned: the syscall,
 * the exit of the child process (fork, exec, netlink, commit), the echo of
 * the running nft, the netlink ack. The methods take turns within each round; the undo (repair off, chain
 * flush, route delete) is not timed. After the rounds each method is checked
 * once: the peer sends while frozen, nothing may arrive.
 *
 * Usage: freeze_cost -n PEER_NETNS -l LOCAL_ADDR -r PEER_ADDR [-i ROUNDS]
 * Run it in the local namespace; the peer's socket is made in PEER_NETNS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "bench.h"

#define PORT	7000

extern char **environ;

enum method { M_REPAIR, M_NFT, M_NFT_CLI, M_ROUTE_IP, M_ROUTE_NL, M_NR };

static const char * const method_name[M_NR] = {
	"TCP_REPAIR_ON", "nft add rule (drop)", "nft add rule, running nft -i",
	"ip route add blackhole", "blackhole route, netlink",
};

static const char * const method_timed[M_NR] = {
	"setsockopt() syscall",
	"nft process, spawn to exit",
	"command line written to generation echo read",
	"ip process, spawn to exit",
	"RTM_NEWROUTE sent to ack read",
};

static struct {
	int cli, srv, nl;
	FILE *nft_in, *nft_out;	/* pipes to a running "nft -e -i" */
	struct sockaddr_storage peer;
	char peer_s[INET_ADDRSTRLEN], port_s[8], nft_rule[128];
} b;

/* Run a command, return its exit status (-1 if killed). */
static int try_run(char *const argv[])
{
	int status;
	pid_t pid;

	errno = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (errno)
		die("cannot run %s", argv[0]);
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void run(char *const argv[])
{
	errno = 0;
	if (try_run(argv))
		die("%s %s %s failed", argv[0], argv[1], argv[2]);
}

/* Start "nft -e -i" on two pipes. */
static void nft_cli_start(void)
{
	char *argv[] = { "nft", "-e", "-i", NULL };
	posix_spawn_file_actions_t fa;
	int in[2], out[2];
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		die("pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	errno = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	if (errno)
		die("cannot run nft -e -i");
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	b.nft_in = fdopen(in[1], "w");
	b.nft_out = fdopen(out[0], "r");
	if (!b.nft_in || !b.nft_out)
		die("fdopen");
}

/* Send one command line, read nft's output up to the line starting with
 * prefix (no reading without a prefix).
 */
static void nft_cli(const char *cmd, const char *prefix)
{
	char line[512];

	if (fprintf(b.nft_in, "%s\n", cmd) < 0 || fflush(b.nft_in))
		die("write to nft -i");
	if (!prefix)
		return;
	do {
		errno = 0;
		if (!fgets(line, sizeof(line), b.nft_out))
			die("nft -i ended while waiting for '%s'", prefix);
	} while (strncmp(line, prefix, strlen(prefix)));
}

static void route_nl(enum tr_nl_cmd cmd)
{
	int err = tr_nl_route(b.nl, cmd, RTN_BLACKHOLE, &b.peer, 32, NULL);

	errno = -err;
	if (err)
		die("blackhole route request %d", cmd);
}

static void freeze(enum method m)
{
	switch (m) {
	case M_REPAIR:
		if (tr_repair(b.cli, TCP_REPAIR_ON))
			die("TCP_REPAIR_ON");
		break;
	case M_NFT:
		run((char *const []){ "nft", "add", "rule", "inet", "bench",
				      "in", "ip", "saddr", b.peer_s, "tcp",
				      "sport", b.port_s, "drop", NULL });
		break;
	case M_NFT_CLI:
		nft_cli(b.nft_rule, "# new generation");
		break;
	case M_ROUTE_IP:
		run((char *const []){ "ip", "route", "add", "blackhole",
				      b.peer_s, NULL });
		break;
	case M_ROUTE_NL:
		route_nl(TR_NL_ADD);
		break;
	default:
		break;
	}
}

static void thaw(enum method m)
{
	switch (m) {
	case M_REPAIR:
		if (tr_repair(b.cli, TCP_REPAIR_OFF))
			die("TCP_REPAIR_OFF");
		break;
	case M_NFT:
		run((char *const []){ "nft", "flush", "chain", "inet", "bench",
				      "in", NULL });
		break;
	case M_NFT_CLI:
		/* A flush echoes nothing: list the chain to know it is done. */
		nft_cli("flush chain inet bench in", NULL);
		nft_cli("list chain inet bench in", "}\n");
		break;
	case M_ROUTE_IP:
	case M_ROUTE_NL:
		route_nl(TR_NL_DEL);
		break;
	default:
		break;
	}
}

/* Freeze, let the peer send, check nothing arrived, thaw, get the data. */
static int frozen(enum method m)
{
	char buf[100] = "x";
	int got;

	freeze(m);
	if (tr_send_all(b.srv, buf, sizeof(buf), 5000) != sizeof(buf))
		die("send");
	usleep(300000);
	got = tr_inq(b.cli);
	thaw(m);
	if (tr_wait_inq(b.cli, sizeof(buf), 20000))
		die("%s: data not delivered after the thaw", method_name[m]);
	if (read(b.cli, buf, sizeof(buf)) != sizeof(buf))
		die("read");
	return got == 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: freeze_cost -n PEER_NETNS -l LOCAL_ADDR -r PEER_ADDR [-i ROUNDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *peer_ns = NULL, *local = NULL, *peer = NULL;
	int rounds = 200, lfd, ns, i, c, has_nft;
	struct in_addr in;
	uint64_t *t[M_NR], t0;
	struct stats s[M_NR];
	enum method m;

	while ((c = getopt(argc, argv, "n:l:r:i:")) != -1) {
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
		case 'i':
			rounds = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (!peer_ns || !local || !peer || rounds < 1)
		usage();

	if (inet_pton(AF_INET, peer, &in) != 1 ||
	    inet_pton(AF_INET, local, &in) != 1)
		die("bad IPv4 address");
	tr_sockaddr(AF_INET, peer, PORT, &b.peer);
	snprintf(b.peer_s, sizeof(b.peer_s), "%s", peer);
	snprintf(b.port_s, sizeof(b.port_s), "%d", PORT);
	snprintf(b.nft_rule, sizeof(b.nft_rule),
		 "add rule inet bench in ip saddr %s tcp sport %d drop", peer,
		 PORT);
	b.nl = tr_nl_open(-1);
	if (b.nl < 0)
		die("netlink socket");

	ns = tr_ns_open(peer_ns);
	lfd = ns < 0 ? ns : tr_listen(ns, &b.peer, 1);
	if (lfd < 0 || tr_connect_to(lfd, -1, NULL, 0, &b.cli, &b.srv))
		die("connection to the peer");
	/* A kernel without nf_tables gets the other methods only. */
	has_nft = !try_run((char *const []){ "nft", "add", "table", "inet",
					     "bench", NULL });
	if (has_nft) {
		run((char *const []){ "nft", "add", "chain", "inet", "bench",
				      "in", "{", "type", "filter", "hook",
				      "input", "priority", "0", ";", "}",
				      NULL });
		nft_cli_start();
	}

	for (m = 0; m < M_NR; m++) {
		t[m] = calloc(rounds, sizeof(*t[m]));
		if (!t[m])
			die("calloc");
	}
	for (i = 0; i < rounds; i++) {
		for (m = 0; m < M_NR; m++) {
			if ((m == M_NFT || m == M_NFT_CLI) && !has_nft)
				continue;
			t0 = now_ns();
			freeze(m);
			t[m][i] = now_ns() - t0;
			thaw(m);
		}
		if ((i + 1) % 50 == 0)
			fprintf(stderr, "freeze_cost: %d/%d rounds\n", i + 1,
				rounds);
	}

	printf("| method | what is timed | rounds | median µs | p99 µs | min µs | max µs | median / TCP_REPAIR_ON | peer's data held back |\n");
	printf("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
	for (m = 0; m < M_NR; m++)
		stats_of(t[m], rounds, &s[m]);
	for (m = 0; m < M_NR; m++) {
		if ((m == M_NFT || m == M_NFT_CLI) && !has_nft) {
			printf("| %s | not available: nft add table failed (kernel without nf_tables?) | 0 | - | - | - | - | - | - |\n",
			       method_name[m]);
			continue;
		}
		printf("| %s | %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %s |\n",
		       method_name[m], method_timed[m], rounds, s[m].median,
		       s[m].p99, s[m].min, s[m].max,
		       s[m].median / s[M_REPAIR].median,
		       frozen(m) ? "yes" : "no");
	}
	if (has_nft)
		run((char *const []){ "nft", "delete", "table", "inet",
				      "bench", NULL });
	return 0;
}
