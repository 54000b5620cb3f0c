// SPDX-License-Identifier: GPL-2.0
/*
 * The process CRIU dumps, and its peer, for criu_migrate.sh: real
 * checkpoint/restore of TCP connections with the criu binary, as a
 * regression guard of this repository (the suite's other programs
 * re-implement libsoccr's and passt's recipes; this one runs the tool).
 *
 * The program moves itself to a new network namespace ("app") joined by a
 * veth to another one ("peer"). There it opens, for each family (IPv4,
 * IPv6, IPv4-mapped IPv6 on the app's side), one connection per TCP state
 * CRIU dumps, and drives each into its state from both ends:
 *
 *   established  data unread in the receive queue, and in the send queue
 *                data sent but not acknowledged and data never sent
 *   close_wait   the peer's data and FIN unread
 *   fin_wait1    our data and FIN sent, not acknowledged
 *   fin_wait2    our FIN acknowledged, the peer's data unread
 *   last_ack     the peer's FIN received, our data and FIN queued, the
 *                tail of the data never sent
 *   closing      both FINs sent, ours not acknowledged
 *   syn_sent     connect() whose SYN gets no answer
 *   listen       a listener and a connection it accepted, on one port,
 *                data unread both ways; after the restores, the peer
 *                connects to the listener again
 *
 * "Not acknowledged" is made with an nftables table in the peer's
 * namespace (outside what CRIU sees): it drops the app's data segments
 * and FINs on those connections, and the SYNs of syn_sent, until the end
 * of the run. SO_REUSEADDR is set to 1 on some sockets and left at 0 on
 * others.
 *
 * Then the app's side is handed to a child process (its own session, no
 * terminal, nothing but those sockets), which CRIU dumps with
 * --tcp-established and restores detached (--restore-detached) in the
 * same namespace, twice in a row: the second dump is of sockets CRIU
 * restored. Each time, the restored process reports what its sockets say
 * (state, SO_REUSEADDR, addresses, queue lengths), which must be what was
 * dumped. Then the nftables table goes, both ends send the rest of their
 * streams, shut down and read to EOF; every byte is checked against its
 * offset in the stream, and no socket may see an error. The TCP counters
 * of both namespaces must show no RST and no abort: until the end of the
 * restores, none at all (CRIU's closes of the dumped sockets, in repair
 * mode, are silent, but count in TcpEstabResets: exactly those); at the
 * end, none but answers to late duplicates of connections that ended in
 * order, as the tcp:tcp_send_reset trace event shows them (a passive
 * close that got its last ACK answers a spurious retransmission that way).
 *
 * Modes: "quiet", nothing is sent while CRIU works, and the queue lengths
 * must come back exactly; "sending", the peer keeps sending on the
 * established, fin_wait1, fin_wait2 and listen connections throughout
 * dump and restore (the app reads fin_wait1 and fin_wait2 as it goes, and
 * leaves the other two to fill up), under CRIU's network lock (iptables
 * or nftables, --network-lock).
 *
 * Usage: criu_tcp [-v] [--exclude NAME=REASON]... MODE:LOCK...
 *        criu_tcp --skip REASON MODE:LOCK...   every case skipped
 * e.g. quiet:iptables sending:nftables; NAME a group (sending_nftables),
 * a family, a state, or both (mapped.syn_sent): skipped, with REASON.
 * CRIU=none runs everything but the dumps and restores (to try the
 * program on a kernel CRIU does not run on). Prints KTAP; exit 0, 1, or 4
 * when everything was skipped.
 *
 * The namespaces and their veth, the socket getters, the counters and the
 * diagnostics are the suite's library (lib/); what is CRIU's is here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../kselftest.h"
#include "lib/tcp_repair.h"

/* Bounded waits, in milliseconds */
#define SETUP_MS	10000	/* a state or a queue is reached */
#define CRIU_MS		180000	/* one criu dump or restore */
#define REPORT_MS	20000	/* the app answers a signal */
/*
 * The rest of the streams, both ways: the restored sockets retransmit
 * what the peer dropped at their next timeout, which a slow restore (the
 * sockets stay in repair mode while CRIU removes its iptables rules, one
 * process per rule) may have backed off up to TCP_RTO_MAX, 120 s.
 */
#define FINISH_MS	150000
#define APP_LIFETIME	900	/* s: the app's own alarm, should all else fail */

/* Stream lengths */
#define SETUP_IN	3000	/* peer to app before the dump, unread */
#define SETUP_OUT	2000	/* app to peer, acknowledged, unread */
#define EST_ACKED	4000	/* established: app to peer, acknowledged */
#define EST_QUEUED	65536	/* established: then sent into the drop */
#define FIN_DATA	1000	/* fin_wait1, closing: data before our FIN */
#define LAST_ACK_DATA	30000	/* last_ack: data before our FIN */
#define FINAL_LEN	5000	/* each way that is still open, at the end */
#define NEW_LEN		3000	/* each way on the new connection */
#define TICK_MS		10	/* the peer's pace in sending mode: */
#define TICK_LEN	1000	/* bytes per tick and connection */

/* ---- cases ------------------------------------------------------------ */

enum fam { FAM_IPV4, FAM_IPV6, FAM_MAPPED, FAM_NR };

static const char *const fam_name[FAM_NR] = { "ipv4", "ipv6", "mapped" };

enum kind {
	K_EST, K_CLOSE_WAIT, K_FIN_WAIT1, K_FIN_WAIT2, K_LAST_ACK, K_CLOSING,
	K_SYN_SENT, K_LISTEN, K_NR,
	K_NEW = K_NR,		/* the connection to the listener afterwards */
};

static const struct kind_desc {
	const char *name;
	int state;		/* tcpi_state as dumped */
	int reuse;		/* SO_REUSEADDR the application sets */
	bool blocked;		/* the peer drops our data and FINs */
	bool streams;		/* the peer keeps sending (sending mode) */
	bool live_read;		/* the app reads as it goes (sending mode) */
} kinds[K_NR + 1] = {
	[K_EST] = { "established", TR_ESTABLISHED, 1, true, true, false },
	[K_CLOSE_WAIT] = { "close_wait", TR_CLOSE_WAIT, 0, false, false, false },
	[K_FIN_WAIT1] = { "fin_wait1", TR_FIN_WAIT1, 1, true, true, true },
	[K_FIN_WAIT2] = { "fin_wait2", TR_FIN_WAIT2, 0, false, true, true },
	[K_LAST_ACK] = { "last_ack", TR_LAST_ACK, 1, true, false, false },
	[K_CLOSING] = { "closing", TR_CLOSING, 0, true, false, false },
	[K_SYN_SENT] = { "syn_sent", TR_SYN_SENT, 1, false, false, false },
	/* the accepted connection; the listener is checked with it */
	[K_LISTEN] = { "listen", TR_ESTABLISHED, 1, false, true, false },
	[K_NEW] = { "listen_new", TR_ESTABLISHED, 1, false, false, false },
};

/* One direction of a connection; each side keeps its own copy. */
struct stream {
	uint32_t id;
	uint64_t sent;		/* by the sender */
	uint64_t total;		/* the sender sends this much, then FIN */
	bool fin_sent;
	uint64_t rcvd;		/* checked by the receiver */
	bool eof;
};

/* What a socket says, reported by the app */
struct obs {
	bool valid;
	int state;
	int reuse;
	int lstate;		/* the listener of K_LISTEN */
	int lreuse;
	int inq;
	int outq;
	int nsd;
	int tuple_ok;		/* addresses and ports as before */
	int err;		/* SO_ERROR */
};

#define NOBS	3		/* before the first dump, after each restore */

struct conn {
	int fam;
	int kind;
	int afd;		/* the app's end (the app's after the fork) */
	int alfd;		/* K_LISTEN: the app's listener */
	int pfd;		/* the peer's end */
	int plfd;		/* K_SYN_SENT: the peer's listener */
	bool connected;		/* K_SYN_SENT, K_NEW: connect() completed */
	struct sockaddr_storage aself, apeer;	/* as the app sees them */
	int aport, pport;	/* the app's port and the peer's */
	struct stream a2p, p2a;
	struct obs obs[NOBS];
	struct app_end {	/* the app's account at the end */
		bool valid;
		uint64_t a2p_sent;
		bool a2p_fin;
		uint64_t p2a_rcvd;
		bool p2a_eof;
	} fin;
	char aerr[128];		/* the first failure of the app's end */
	char perr[128];		/* of the peer's end */
	const char *skip;	/* not run, and why */
	struct tr_verdict v;	/* the first failed check, if any */
};

#define NCONN	(FAM_NR * (K_NR + 1))

enum mode { MODE_QUIET, MODE_SENDING };

/* What a RST or an abort shows in, in either namespace */
static const char *const rst_names[] = {
	"TcpOutRsts", "TcpEstabResets", "TcpExtTCPAbortOnData",
	"TcpExtTCPAbortOnClose", "TcpExtTCPAbortOnMemory",
	"TcpExtTCPAbortOnTimeout", "TcpExtTCPAbortOnLinger",
	"TcpExtTCPAbortFailed",
};

#define NRST	ARRAY_SIZE(rst_names)

struct group {
	enum mode mode;
	const char *lock;	/* iptables, nftables */
	char name[32];		/* "quiet_iptables" */
	const char *skip;	/* not run, and why */
	struct conn c[NCONN];
	int ncase;
	struct tr_verdict fail;	/* a failure of the whole group */
	/* before, after the restores, at the end: app and peer namespaces */
	long rst[3][2][NRST];
	double t_setup, t_dump[2], t_restore[2], t_finish;
};

static bool verbose;
static const char *criu_bin = "criu";
static bool no_criu;
static char workdir[PATH_MAX];

/* ---- diagnostics ------------------------------------------------------ */

#define vlog(...)	do { if (verbose) tr_log(__VA_ARGS__); } while (0)

static void seterr(char *buf, size_t len, const char *fmt, ...)
	__printf(3, 4);
static void seterr(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf[0])
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ---- the streams -------------------------------------------------------- */

/*
 * Byte @off of stream @id: a random table of prime length, xored with a
 * counter of its laps; a period of 16 MiB, no two streams alike.
 */
#define PAT_LEN		65521

static uint8_t pat[PAT_LEN];	/* tr_fill(), seed 0 */

static void pat_fill(uint8_t *buf, uint32_t id, uint64_t off, size_t len)
{
	uint64_t v = off + (uint64_t)id * 7919;
	uint32_t idx = v % PAT_LEN;
	uint8_t lap = (uint8_t)(v / PAT_LEN * 151);
	size_t i;

	for (i = 0; i < len; i++) {
		buf[i] = pat[idx] ^ lap;
		if (++idx == PAT_LEN) {
			idx = 0;
			lap += 151;
		}
	}
}

/* -1 if @buf is what stream @id has at @off, else the first bad offset */
static int64_t pat_check(const uint8_t *buf, uint32_t id, uint64_t off,
			 size_t len)
{
	uint8_t want[4096];
	size_t done = 0, n, i;

	while (done < len) {
		n = len - done < sizeof(want) ? len - done : sizeof(want);
		pat_fill(want, id, off + done, n);
		if (memcmp(want, buf + done, n)) {
			for (i = 0; i < n && want[i] == buf[done + i]; i++)
				;
			return off + done + i;
		}
		done += n;
	}
	return -1;
}

/* Send what stream @s has next, up to @max bytes; 0, or -errno */
static int stream_send(int fd, struct stream *s, uint64_t max)
{
	uint8_t buf[16384];
	uint64_t left = s->total - s->sent;
	ssize_t n;

	if (left > max)
		left = max;
	while (left) {
		size_t len = left < sizeof(buf) ? left : sizeof(buf);

		pat_fill(buf, s->id, s->sent, len);
		n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		s->sent += n;
		left -= n;
		if ((size_t)n < len)
			break;
	}
	return 0;
}

/*
 * Read what is there; check it. 0, or -errno, or -EBADMSG with the bad
 * offset in *@bad.
 */
static int stream_recv(int fd, struct stream *s, int64_t *bad)
{
	uint8_t buf[16384];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0) {
			s->eof = true;
			return 0;
		}
		*bad = pat_check(buf, s->id, s->rcvd, n);
		if (*bad >= 0)
			return -EBADMSG;
		s->rcvd += n;
	}
}

/* ---- addresses and namespaces ----------------------------------------- */

/* The hosts: the app at TR_SERVICE (.1), the peer at TR_CLIENT (.100) */
static void mkaddr(int domain, int fam, bool peer, uint16_t port,
		   struct sockaddr_storage *ss)
{
	tr_addr(fam == FAM_MAPPED ? AF_INET : domain,
		peer ? TR_CLIENT : TR_SERVICE, port, ss);
	if (domain == AF_INET6)
		tr_addr_mapped(ss);
}

static int app_domain(int fam)
{
	return fam == FAM_IPV4 ? AF_INET : AF_INET6;
}

static int peer_domain(int fam)
{
	return fam == FAM_IPV6 ? AF_INET6 : AF_INET;
}

/* Ports: the peer's listeners, the app's listener, the app's sockets */
static uint16_t peer_port(int fam)	{ return 8000 + fam; }
static uint16_t peer_syn_port(int fam)	{ return 8100 + fam; }
static uint16_t app_listen_port(int fam) { return 9000 + fam; }
static uint16_t app_port(int fam, int kind) { return 20000 + 100 * fam + kind; }

static int ns_app = -1, ns_peer = -1;

#define MAC_APP		"02:00:00:00:00:01"	/* a0, in the app's namespace */
#define MAC_PEER	"02:00:00:00:00:02"	/* p0, in the peer's */

/* A socket in the peer's namespace, non-blocking as all of ours */
static int peer_socket(int domain, int type)
{
	return tr_ns_socket(ns_peer, domain,
			    type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -1;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -1;
	close(fd);
	return ret;
}

/*
 * One end of the veth, on rtnetlink socket @nl: its addresses (/24, /64),
 * a permanent neighbour entry for each address of the other end, up
 */
static int link_setup(int nl, const char *dev, enum tr_host self,
		      enum tr_host other, const char *other_mac)
{
	static const int family[] = { AF_INET, AF_INET6 };
	struct sockaddr_storage a;
	int i, err = 0;

	for (i = 0; i < (int)ARRAY_SIZE(family) && !err; i++) {
		tr_addr(family[i], self, 0, &a);
		err = tr_nl_addr(nl, TR_NL_ADD, &a,
				 family[i] == AF_INET ? 24 : 64, dev);
		tr_addr(family[i], other, 0, &a);
		err = err ?: tr_nl_neigh(nl, &a, other_mac, dev);
	}
	return err ?: tr_nl_link_up(nl, dev);
}

/*
 * Until a datagram gets through each way: an IPv6 route comes a little
 * after its address.
 */
static int path_wait(int family)
{
	int64_t end = tr_now_ms() + SETUP_MS;
	struct sockaddr_storage a, p;
	int fa, fp, ret = -1, dir;
	char c = 0;

	tr_addr(family, TR_SERVICE, 9999, &a);
	tr_addr(family, TR_CLIENT, 9999, &p);
	fa = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	fp = peer_socket(family, SOCK_DGRAM);
	if (fa < 0 || fp < 0 || bind(fa, (void *)&a, tr_addr_len(&a)) ||
	    bind(fp, (void *)&p, tr_addr_len(&p)))
		goto out;
	for (dir = 0; dir < 2; dir++) {
		int from = dir ? fp : fa, to = dir ? fa : fp;
		struct sockaddr_storage *dst = dir ? &a : &p;

		do {
			sendto(from, &c, 1, 0, (void *)dst, tr_addr_len(dst));
			if (!tr_poll(to, POLLIN, tr_now_ms() + 20) &&
			    recv(to, &c, 1, 0) == 1)
				break;
		} while (tr_now_ms() < end);
		if (tr_now_ms() >= end) {
			tr_log("no datagram gets through the veth (%s)",
			       family == AF_INET ? "IPv4" : "IPv6");
			goto out;
		}
	}
	ret = 0;
out:
	if (fa >= 0)
		close(fa);
	if (fp >= 0)
		close(fp);
	return ret;
}

/*
 * The namespaces: this process ends in "app", where CRIU runs too (so
 * that CRIU treats it as its own and dumps no namespace); "peer" is only
 * reachable through the veth, and known by a file descriptor. Both go
 * away with the last process and descriptor in them. Every descriptor the
 * library opens here is close-on-exec, and the app closes them all.
 */
static int netns_setup(void)
{
	int nl_app = -1, nl_peer = -1, err;

	if (ns_app >= 0)
		close(ns_app);
	if (ns_peer >= 0)
		close(ns_peer);
	ns_app = -1;
	ns_peer = tr_ns_new();
	if (ns_peer < 0 || tr_ns_unshare())
		return -1;
	ns_app = tr_ns_open("/proc/self/ns/net");
	if (ns_app >= 0)
		nl_app = tr_nl_open(ns_app);
	if (nl_app >= 0)
		nl_peer = tr_nl_open(ns_peer);
	err = nl_peer < 0 ||
	      tr_nl_veth(nl_app, "a0", MAC_APP, "p0", MAC_PEER, ns_peer) ||
	      link_setup(nl_app, "a0", TR_SERVICE, TR_CLIENT, MAC_PEER) ||
	      link_setup(nl_peer, "p0", TR_CLIENT, TR_SERVICE, MAC_APP) ||
	      tr_nl_link_wait(ns_peer, "p0", SETUP_MS) ||
	      tr_nl_link_wait(ns_app, "a0", SETUP_MS) ||
	      path_wait(AF_INET) || path_wait(AF_INET6);
	if (nl_app >= 0)
		close(nl_app);
	if (nl_peer >= 0)
		close(nl_peer);
	if (err)
		return -1;
	/*
	 * syn_sent stays unanswered until the end of the run: SYN
	 * retransmissions at 1, 3, 7... s after each restore, and none of
	 * them gives up meanwhile.
	 */
	if (write_file("/proc/sys/net/ipv4/tcp_syn_retries", "12")) {
		tr_log("tcp_syn_retries: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- child processes ---------------------------------------------------- */

static volatile pid_t app_pid = -1, cmd_pid = -1;

/* SIGTERM (the kselftest timeout): take our children with us */
static char trace_dir[PATH_MAX];
static bool trace_all;		/* the event shows RSTs sent without a socket */

static void on_term(int sig)
{
	char *const argv[] = { "rm", "-rf", workdir, NULL };
	pid_t pid;

	if (app_pid > 0)
		kill(app_pid, SIGKILL);
	if (cmd_pid > 0)
		kill(cmd_pid, SIGKILL);
	if (trace_dir[0])
		rmdir(trace_dir);
	if (workdir[0]) {
		pid = fork();
		if (!pid) {
			execve("/bin/rm", argv, NULL);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	_exit(KSFT_FAIL);
}

/*
 * Run @argv in namespace @ns (-1: ours), output to @out (appended); while
 * it runs, call @idle every TICK_MS. Its wait status, or -1; killed after
 * @ms. Its stdin is ours: /dev/null.
 */
static int run(char *const argv[], int ns, const char *out, int ms,
	       void (*idle)(void *), void *arg)
{
	int64_t end = tr_now_ms() + ms;
	int status, fd;
	pid_t pid;

	fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	pid = tr_ns_spawn(ns, argv, fd, fd);
	close(fd);
	if (pid < 0)
		return -1;
	cmd_pid = pid;
	while (waitpid(pid, &status, WNOHANG) != pid) {
		if (tr_now_ms() > end) {
			tr_log("%s %s: no answer in %d s, killed", argv[0],
			       argv[1], ms / 1000);
			tr_kill_all(&pid, 1);
			cmd_pid = -1;
			return -1;
		}
		if (idle)
			idle(arg);
		else
			tr_msleep(TICK_MS);
	}
	cmd_pid = -1;
	return status;
}

/* The last lines of @path that say "Error", as diagnostics; the first */
static void log_errors(const char *path, char *first, size_t len)
{
	char line[512];
	int n = 0;
	FILE *f;

	first[0] = 0;
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "Error") && !strstr(line, "error"))
			continue;
		line[strcspn(line, "\n")] = 0;
		if (!first[0])
			snprintf(first, len, "%s", line);
		if (n++ < 12)
			tr_log("  %s", line);
	}
	fclose(f);
}

/* ---- counters and diagnostics ---------------------------------------- */

/* The RST and abort counters of the app's namespace and the peer's, now */
static int rst_read(long rst[2][NRST])
{
	int ns, i;

	for (ns = 0; ns < 2; ns++)
		for (i = 0; i < (int)NRST; i++) {
			rst[ns][i] = tr_mib(ns ? ns_peer : ns_app, rst_names[i]);
			if (rst[ns][i] < 0)
				return -1;
		}
	return 0;
}

/* What @argv says in @ns, as diagnostics */
static void cmd_log(char *const argv[], int ns, const char *what)
{
	char out[PATH_MAX + 16], line[512];
	FILE *f;

	snprintf(out, sizeof(out), "%s/%s.out", workdir, argv[0]);
	unlink(out);
	if (run(argv, ns, out, 20000, NULL, NULL))
		return;
	f = fopen(out, "r");
	if (!f)
		return;
	tr_log("%s %s in the %s's namespace:", argv[0], argv[1], what);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		tr_log("  %s", line);
	}
	fclose(f);
}

static void ss_log(int ns, const char *what)
{
	char *argv[] = { "ss", "-tinoem", NULL };

	cmd_log(argv, ns, what);
}

/*
 * The TCP counters that moved: those that are not 0, in namespaces made
 * for the group (nstat leaves out the constants)
 */
static void mib_log(int ns, const char *what)
{
	char *argv[] = { "nstat", "-as", "Tcp*", NULL };

	cmd_log(argv, ns, what);
}

/* ---- the peer's nftables table ---------------------------------------- */

#define NFT_TABLE	"criu_migrate"

/*
 * In the peer's namespace: drop the app's data segments (IP length over
 * 100, more than any header) and FINs on the "blocked" connections, so
 * that they stay unacknowledged, and the SYNs to the syn_sent ports. The
 * app's pure ACKs pass: the peer's data to those connections flows.
 */
static int nft_block(struct group *g)
{
	char path[PATH_MAX + 64], ports[1024] = "", syn[256] = "", out[PATH_MAX + 64];
	char *argv[] = { "nft", "-f", path, NULL };
	size_t pl = 0, sl = 0;
	int i, st;
	FILE *f;

	for (i = 0; i < NCONN; i++) {
		struct conn *c = &g->c[i];

		if (c->kind < K_NR && kinds[c->kind].blocked && c->afd >= 0)
			pl += snprintf(ports + pl, sizeof(ports) - pl, "%s%u",
				       pl ? ", " : "", app_port(c->fam, c->kind));
		if (c->kind == K_SYN_SENT && c->plfd >= 0)
			sl += snprintf(syn + sl, sizeof(syn) - sl, "%s%u",
				       sl ? ", " : "", peer_syn_port(c->fam));
	}
	snprintf(path, sizeof(path), "%s/%s.nft", workdir, g->name);
	snprintf(out, sizeof(out), "%s/%s.nft.out", workdir, g->name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "table inet %s {\n chain input {\n", NFT_TABLE);
	fprintf(f, "  type filter hook input priority 0; policy accept;\n");
	if (pl) {
		fprintf(f, "  tcp sport { %s } tcp flags & fin == fin drop\n", ports);
		fprintf(f, "  tcp sport { %s } meta length > 100 drop\n", ports);
	}
	if (sl)
		fprintf(f, "  tcp dport { %s } drop\n", syn);
	fprintf(f, " }\n}\n");
	fclose(f);
	st = run(argv, ns_peer, out, 30000, NULL, NULL);
	if (st) {
		tr_log("nft -f %s failed (%d), see %s", path, st, out);
		return -1;
	}
	return 0;
}

static int nft_unblock(struct group *g)
{
	char *argv[] = { "nft", "delete", "table", "inet", NFT_TABLE, NULL };
	char out[PATH_MAX + 64];

	snprintf(out, sizeof(out), "%s/%s.nft.out", workdir, g->name);
	if (run(argv, ns_peer, out, 30000, NULL, NULL)) {
		tr_log("nft delete table failed, see %s", out);
		return -1;
	}
	return 0;
}

/* ---- connections -------------------------------------------------------- */

#define WAIT_FOR(cond, ms) ({						\
	int64_t _end = tr_now_ms() + (ms);				\
	bool _ok;							\
	while (!(_ok = (cond)) && tr_now_ms() < _end)			\
		tr_msleep(5);						\
	_ok;								\
})

/* A socket of the app, SO_REUSEADDR as its kind wants, bound to @port */
static int app_socket(int fam, int reuse, uint16_t port, int sndbuf)
{
	struct sockaddr_storage ss;
	int fd, err;

	fd = socket(app_domain(fam), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	mkaddr(app_domain(fam), fam, false, port, &ss);
	err = fam == FAM_MAPPED ?
	      tr_sockopt_set(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0) : 0;
	err = err ?: tr_sockopt_set(fd, SOL_SOCKET, SO_REUSEADDR, reuse);
	if (!err && sndbuf)
		err = tr_sockopt_set(fd, SOL_SOCKET, SO_SNDBUF, sndbuf);
	if (!err && bind(fd, (void *)&ss, tr_addr_len(&ss)))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* A listener of the peer, non-blocking, SO_REUSEADDR set */
static int peer_listener(int fam, uint16_t port)
{
	struct sockaddr_storage ss;
	int fd;

	mkaddr(peer_domain(fam), fam, true, port, &ss);
	fd = tr_listen(ns_peer, &ss, 1);
	if (fd >= 0 && fcntl(fd, F_SETFL, O_NONBLOCK)) {
		tr_log("O_NONBLOCK: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * connect() a non-blocking socket, and wait for it. An IPv6 route comes
 * a little after its address: ENETUNREACH is tried again.
 */
static int connect_wait(int fd, const struct sockaddr_storage *to, int ms)
{
	int64_t end = tr_now_ms() + ms;
	int err;

	for (;;) {
		if (!connect(fd, (const void *)to, tr_addr_len(to)))
			return 0;
		err = -errno;
		if (err == -EINPROGRESS) {
			err = tr_poll(fd, POLLOUT, end);
			if (err)
				return err;
			err = -tr_sock_error(fd);
			if (!err)
				return 0;
		}
		if ((err != -ENETUNREACH && err != -EHOSTUNREACH) ||
		    tr_now_ms() > end)
			return err;
		tr_msleep(20);
	}
}

static int accept_wait(int lfd, int ms)
{
	int err = tr_poll(lfd, POLLIN, tr_now_ms() + ms), fd;

	if (err)
		return err;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Send @len more bytes of stream @s, all of them, within @ms */
static int send_wait(int fd, struct stream *s, uint64_t len, int ms)
{
	int64_t end = tr_now_ms() + ms;
	int r;

	s->total += len;
	while (s->sent < s->total) {
		r = stream_send(fd, s, UINT64_MAX);
		if (!r && s->sent < s->total)
			r = tr_poll(fd, POLLOUT, end);
		if (r)
			return r;
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->afd >= 0)
		close(c->afd);
	if (c->alfd >= 0)
		close(c->alfd);
	if (c->pfd >= 0)
		close(c->pfd);
	if (c->plfd >= 0)
		close(c->plfd);
	c->afd = c->alfd = c->pfd = c->plfd = -1;
}

/* A connection that cannot be set up: its case fails, the rest goes on */
static void setup_fail(struct conn *c, const char *what, int err)
{
	tr_verdict_set(&c->v, "setup", "%s: %s", what,
		       strerror(err < 0 ? -err : err));
	tr_log("%s.%s: setup: %s: %s", fam_name[c->fam], kinds[c->kind].name,
	       what, strerror(err < 0 ? -err : err));
	conn_close(c);
}

static bool conn_live(const struct conn *c)
{
	return c->afd >= 0 && c->pfd >= 0;
}

static int state_before_rules(int kind)
{
	switch (kind) {
	case K_CLOSE_WAIT:
	case K_LAST_ACK:
		return TR_CLOSE_WAIT;
	case K_FIN_WAIT2:
		return TR_FIN_WAIT2;
	default:
		return TR_ESTABLISHED;
	}
}

/* Both ends got everything sent so far, and acknowledged it */
static bool settled(const struct conn *c)
{
	return tr_inq(c->afd) == (int)c->p2a.sent &&
	       tr_inq(c->pfd) == (int)c->a2p.sent &&
	       tr_outq(c->afd) == 0 &&
	       tr_outq(c->pfd) == 0 &&
	       tr_tcp_state(c->afd) == state_before_rules(c->kind);
}

static int connect_pair(struct conn *c)
{
	struct sockaddr_storage to;
	socklen_t len = sizeof(to);
	int lfd, r;

	if (c->kind == K_LISTEN) {
		c->alfd = app_socket(c->fam, 1, app_listen_port(c->fam), 0);
		if (c->alfd < 0)
			return c->alfd;
		if (listen(c->alfd, 8))
			return -errno;
		c->pfd = peer_socket(peer_domain(c->fam), SOCK_STREAM);
		if (c->pfd < 0)
			return c->pfd;
		mkaddr(peer_domain(c->fam), c->fam, false,
		       app_listen_port(c->fam), &to);
		r = connect_wait(c->pfd, &to, SETUP_MS);
		if (r)
			return r;
		c->afd = accept_wait(c->alfd, SETUP_MS);
		if (c->afd < 0)
			return c->afd;
	} else {
		c->afd = app_socket(c->fam, kinds[c->kind].reuse,
				    app_port(c->fam, c->kind), 262144);
		if (c->afd < 0)
			return c->afd;
		if (c->kind == K_SYN_SENT) {
			c->plfd = peer_listener(c->fam, peer_syn_port(c->fam));
			if (c->plfd < 0)
				return c->plfd;
			len = sizeof(c->aself);
			getsockname(c->afd, (void *)&c->aself, &len);
			mkaddr(app_domain(c->fam), c->fam, true,
			       peer_syn_port(c->fam), &c->apeer);
			c->aport = app_port(c->fam, c->kind);
			c->pport = peer_syn_port(c->fam);
			return 0;	/* connects after the table is in */
		}
		lfd = peer_listener(c->fam, peer_port(c->fam) + 10 * c->kind);
		if (lfd < 0)
			return lfd;
		mkaddr(app_domain(c->fam), c->fam, true,
		       peer_port(c->fam) + 10 * c->kind, &to);
		r = connect_wait(c->afd, &to, SETUP_MS);
		if (!r) {
			c->pfd = accept_wait(lfd, SETUP_MS);
			r = c->pfd < 0 ? c->pfd : 0;
		}
		close(lfd);
		if (r)
			return r;
	}
	len = sizeof(c->aself);
	getsockname(c->afd, (void *)&c->aself, &len);
	len = sizeof(c->apeer);
	getpeername(c->afd, (void *)&c->apeer, &len);
	c->aport = tr_addr_port(&c->aself);
	c->pport = tr_addr_port(&c->apeer);
	return 0;
}

/*
 * Bring every connection of @g to the state it is dumped in. Phase 1,
 * with nothing dropped: data both ways, FINs of the peer, fin_wait2's
 * FIN; phase 2: the peer's table; phase 3: what must stay
 * unacknowledged or unsent, and the FINs that go with it.
 */
static int setup(struct group *g)
{
	struct conn *c;
	int i, r;

	for (i = 0; i < NCONN; i++) {
		c = &g->c[i];
		if (c->kind == K_NEW || c->skip)
			continue;
		r = connect_pair(c);
		if (r) {
			setup_fail(c, "connect", r);
			continue;
		}
		if (c->kind == K_SYN_SENT)
			continue;
		vlog("%s.%s: %s - %s", fam_name[c->fam], kinds[c->kind].name,
		     tr_addr_str(&c->aself), tr_addr_str(&c->apeer));
		r = send_wait(c->pfd, &c->p2a, SETUP_IN, SETUP_MS);
		switch (c->kind) {
		case K_EST:
			r = r ?: send_wait(c->afd, &c->a2p, EST_ACKED, SETUP_MS);
			break;
		case K_CLOSE_WAIT:
		case K_LAST_ACK:
			r = r ?: send_wait(c->afd, &c->a2p, SETUP_OUT, SETUP_MS);
			if (!r && shutdown(c->pfd, SHUT_WR))
				r = -errno;
			c->p2a.fin_sent = true;
			break;
		case K_FIN_WAIT2:
			r = r ?: send_wait(c->afd, &c->a2p, SETUP_OUT, SETUP_MS);
			if (!r && shutdown(c->afd, SHUT_WR))
				r = -errno;
			c->a2p.fin_sent = true;
			break;
		case K_LISTEN:
			r = r ?: send_wait(c->afd, &c->a2p, SETUP_OUT, SETUP_MS);
			break;
		}
		if (r)
			setup_fail(c, "send", r);
	}
	for (i = 0; i < NCONN; i++) {
		c = &g->c[i];
		if (conn_live(c) && !WAIT_FOR(settled(c), SETUP_MS))
			setup_fail(c, "phase 1 never settled", ETIMEDOUT);
	}

	if (nft_block(g)) {
		tr_verdict_set(&g->fail, "setup", "the peer's nftables table");
		return -1;
	}

	for (i = 0; i < NCONN; i++) {
		c = &g->c[i];
		if (c->afd < 0)
			continue;
		r = 0;
		switch (c->kind) {
		case K_EST:
			/* as much as the send buffer takes */
			c->a2p.total += EST_QUEUED;
			r = stream_send(c->afd, &c->a2p, UINT64_MAX);
			c->a2p.total = c->a2p.sent;
			if (!r && !WAIT_FOR(tr_outq(c->afd) >
					    tr_outq_nsd(c->afd), SETUP_MS))
				r = -ETIMEDOUT;
			break;
		case K_FIN_WAIT1:
		case K_CLOSING:
		case K_LAST_ACK:
			r = send_wait(c->afd, &c->a2p, c->kind == K_LAST_ACK ?
				      LAST_ACK_DATA : FIN_DATA, SETUP_MS);
			if (!r && shutdown(c->afd, SHUT_WR))
				r = -errno;
			c->a2p.fin_sent = true;
			if (!r && c->kind != K_LAST_ACK &&
			    !WAIT_FOR(tr_outq_nsd(c->afd) == 0, SETUP_MS))
				r = -ETIMEDOUT;
			if (!r && c->kind == K_CLOSING) {
				if (shutdown(c->pfd, SHUT_WR))
					r = -errno;
				c->p2a.fin_sent = true;
			}
			break;
		case K_SYN_SENT:
			if (!connect(c->afd, (void *)&c->apeer,
				     tr_addr_len(&c->apeer)) ||
			    errno != EINPROGRESS)
				r = -EPROTO;
			break;
		}
		if (!r)
			r = tr_wait_state(c->afd, kinds[c->kind].state, SETUP_MS);
		if (r)
			setup_fail(c, "phase 3", r);
	}

	/* What is left to send at the end, after the restores */
	for (i = 0; i < NCONN; i++) {
		c = &g->c[i];
		if (c->kind == K_NEW) {
			c->a2p.total = c->p2a.total = NEW_LEN;
			continue;
		}
		if (!c->a2p.fin_sent)
			c->a2p.total = c->a2p.sent + FINAL_LEN;
		if (!c->p2a.fin_sent)
			c->p2a.total = c->p2a.sent + FINAL_LEN;
	}
	return 0;
}

/* ---- the app ------------------------------------------------------------ */

static volatile sig_atomic_t got_usr1, got_usr2;
static pid_t driver_pid;	/* the app ends when this one is gone */

static bool driver_gone(void)
{
	return kill(driver_pid, 0) && errno == ESRCH;
}

static void on_usr(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_usr2 = 1;
}

static void report_path(const struct group *g, char *buf, size_t len,
			const char *what)
{
	snprintf(buf, len, "%s/%s.%s", workdir, g->name, what);
}

/* getsockname() of @fd (getpeername() with @peer) still says @want */
static bool addr_is(int fd, bool peer, const struct sockaddr_storage *want)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (peer ? getpeername(fd, (void *)&ss, &len) :
		   getsockname(fd, (void *)&ss, &len))
		return false;
	return len == tr_addr_len(want) && !memcmp(&ss, want, len);
}

static bool tuple_ok(const struct conn *c)
{
	if (!addr_is(c->afd, false, &c->aself))
		return false;
	if (c->kind == K_SYN_SENT)
		return true;
	if (!addr_is(c->afd, true, &c->apeer))
		return false;
	return c->kind != K_LISTEN ||
	       tr_local_port(c->alfd) == app_listen_port(c->fam);
}

/* What the app's sockets say, in a file the peer reads */
static void app_report(struct group *g, const char *what, bool final)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 80];
	FILE *f;
	int i;

	report_path(g, path, sizeof(path), what);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	for (i = 0; i < NCONN; i++) {
		struct conn *c = &g->c[i];

		if (final) {
			fprintf(f, "end %d %llu %d %llu %d %s\n", i,
				(unsigned long long)c->a2p.sent, c->a2p.fin_sent,
				(unsigned long long)c->p2a.rcvd, c->p2a.eof,
				c->aerr[0] ? c->aerr : "-");
			continue;
		}
		if (c->afd < 0 || c->kind == K_NEW)
			continue;
		fprintf(f, "obs %d %d %d %d %d %d %d %d %d %d\n", i,
			tr_tcp_state(c->afd),
			tr_sockopt_get(c->afd, SOL_SOCKET, SO_REUSEADDR),
			c->alfd >= 0 ? tr_tcp_state(c->alfd) : 0,
			c->alfd >= 0 ?
			tr_sockopt_get(c->alfd, SOL_SOCKET, SO_REUSEADDR) : 0,
			tr_inq(c->afd), tr_outq(c->afd),
			tr_outq_nsd(c->afd), tuple_ok(c),
			tr_sock_error(c->afd));
	}
	fclose(f);
	rename(tmp, path);
}

/* One step of one end: send what is due, FIN after it, read what came */
static bool side_step(int fd, struct stream *tx, struct stream *rx,
		      char *err, size_t errlen)
{
	int64_t bad;
	int r;

	if (err[0])
		return true;
	if (tx->sent < tx->total) {
		r = stream_send(fd, tx, UINT64_MAX);
		if (r) {
			seterr(err, errlen, "%s: send: %s",
			       r == -ECONNRESET || r == -EPIPE ? "reset" : "send",
			       strerror(-r));
			return true;
		}
	}
	if (tx->sent == tx->total && !tx->fin_sent) {
		if (shutdown(fd, SHUT_WR)) {
			seterr(err, errlen, "send: shutdown: %s", strerror(errno));
			return true;
		}
		tx->fin_sent = true;
	}
	while (!rx->eof) {
		r = stream_recv(fd, rx, &bad);
		if (r == -EBADMSG) {
			seterr(err, errlen, "data: byte %lld of the stream differs",
			       (long long)bad);
			return true;
		}
		if (r) {
			seterr(err, errlen, "%s: recv: %s",
			       r == -ECONNRESET ? "reset" : "recv", strerror(-r));
			return true;
		}
		break;
	}
	return tx->fin_sent && rx->eof;
}

static bool connected(int fd, char *err, size_t errlen)
{
	int e = tr_sock_error(fd);

	if (e > 0)
		seterr(err, errlen, "connect: %s", strerror(e));
	return tr_tcp_state(fd) == TR_ESTABLISHED ||
	       tr_tcp_state(fd) == TR_CLOSE_WAIT;
}

static struct conn *conn_of(struct group *g, int fam, int kind)
{
	return &g->c[fam * (K_NR + 1) + kind];
}

/* The rest of the streams, from the app's end, then exit */
static void app_finish(struct group *g)
{
	int64_t end = tr_now_ms() + FINISH_MS;
	struct pollfd p[2 * NCONN];
	bool done;
	int i, n, e;

	do {
		n = 0;
		done = true;
		for (i = 0; i < NCONN; i++) {
			struct conn *c = &g->c[i];
			struct conn *l = conn_of(g, c->fam, K_LISTEN);

			if (c->kind == K_NEW && c->afd < 0 && !c->v.reason[0] &&
			    l->alfd >= 0) {
				c->afd = accept4(l->alfd, NULL, NULL,
						 SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (c->afd < 0) {
					p[n++] = (struct pollfd){ l->alfd, POLLIN };
					done = false;
					continue;
				}
			}
			if (c->afd < 0 || c->aerr[0])
				continue;
			if (!c->connected && (c->kind == K_SYN_SENT || c->kind == K_NEW))
				c->connected = connected(c->afd, c->aerr, sizeof(c->aerr));
			if ((c->kind != K_SYN_SENT || c->connected) &&
			    side_step(c->afd, &c->a2p, &c->p2a, c->aerr,
				      sizeof(c->aerr)))
				continue;
			done = false;
			p[n++] = (struct pollfd){ c->afd, POLLIN |
				(c->a2p.sent < c->a2p.total || !c->connected ? POLLOUT : 0) };
		}
		if (!done)
			poll(p, n, 20);
		if (driver_gone())
			_exit(1);
	} while (!done && tr_now_ms() < end);
	for (i = 0; i < NCONN; i++) {
		struct conn *c = &g->c[i];

		if (c->afd >= 0 && !c->aerr[0] && !(c->a2p.fin_sent && c->p2a.eof))
			seterr(c->aerr, sizeof(c->aerr),
			       "timeout: %s, %llu/%llu sent, %llu received%s",
			       tr_state_str(tr_tcp_state(c->afd)),
			       (unsigned long long)c->a2p.sent,
			       (unsigned long long)c->a2p.total,
			       (unsigned long long)c->p2a.rcvd,
			       c->p2a.eof ? ", EOF" : "");
		if (c->kind == K_NEW && c->afd < 0 && conn_of(g, c->fam, K_LISTEN)->alfd >= 0)
			seterr(c->aerr, sizeof(c->aerr), "timeout: nothing accepted");
		/* an error pending at the end: a RST, most likely */
		e = c->afd >= 0 ? tr_sock_error(c->afd) : 0;
		if (e > 0)
			seterr(c->aerr, sizeof(c->aerr), "reset: SO_ERROR %s at the end",
			       strerror(e));
	}
	app_report(g, "final", true);
	for (i = 0; i < NCONN; i++)
		conn_close(&g->c[i]);
}

/*
 * The process CRIU dumps: the app's sockets and nothing else (stdio on
 * /dev/null, its own session), waiting for signals: SIGUSR1, report;
 * SIGUSR2, finish and exit. In sending mode it reads the live_read
 * connections as data comes. It exits when the driver is gone, or after
 * APP_LIFETIME whatever happens.
 */
static void app_main(struct group *g)
{
	struct timespec tick = { 0, 50 * 1000000L };
	struct itimerval lifetime = {
		{ APP_LIFETIME, 0 }, { APP_LIFETIME, 0 }
	};
	sigset_t block, waitmask;
	struct sigaction sa = { .sa_handler = on_usr };
	struct pollfd p[NCONN];
	int i, fd, n, r;
	bool keep;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	for (fd = 0; fd < 1024; fd++) {
		keep = false;
		for (i = 0; i < NCONN; i++)
			keep |= fd == g->c[i].afd || fd == g->c[i].alfd;
		if (!keep)
			close(fd);
	}
	for (i = 0; i < NCONN; i++)
		g->c[i].pfd = g->c[i].plfd = -1;
	fd = open("/dev/null", O_RDWR);
	if (fd != 0 || dup2(0, 1) != 1 || dup2(0, 2) != 2)
		_exit(1);
	if (setsid() < 0)
		_exit(1);
	/* periodic: criu 3.17 restores no one-shot timer */
	setitimer(ITIMER_REAL, &lifetime, NULL);

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGUSR1);
	sigdelset(&waitmask, SIGUSR2);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);

	for (;;) {
		n = 0;
		for (i = 0; g->mode == MODE_SENDING && i < NCONN; i++) {
			struct conn *c = &g->c[i];

			if (c->afd >= 0 && c->kind < K_NR &&
			    kinds[c->kind].live_read && !c->aerr[0] && !c->p2a.eof)
				p[n++] = (struct pollfd){ c->afd, POLLIN };
		}
		ppoll(p, n, &tick, &waitmask);
		if (driver_gone())
			_exit(1);
		for (i = 0; g->mode == MODE_SENDING && i < NCONN; i++) {
			struct conn *c = &g->c[i];
			int64_t bad;

			if (c->afd < 0 || c->kind >= K_NR ||
			    !kinds[c->kind].live_read || c->aerr[0] || c->p2a.eof)
				continue;
			r = stream_recv(c->afd, &c->p2a, &bad);
			if (r == -EBADMSG)
				seterr(c->aerr, sizeof(c->aerr),
				       "data: byte %lld of the stream differs",
				       (long long)bad);
			else if (r)
				seterr(c->aerr, sizeof(c->aerr), "%s: recv: %s",
				       r == -ECONNRESET ? "reset" : "recv",
				       strerror(-r));
		}
		if (got_usr1) {
			got_usr1 = 0;
			app_report(g, "report", false);
		}
		if (got_usr2) {
			app_finish(g);
			_exit(0);
		}
	}
}

/* ---- the peer, and the run -------------------------------------------- */

static bool app_dead;
static int app_status;

/* Reap what ended: the app (our child, or adopted: we are a subreaper) */
static void reap(void)
{
	int st;
	pid_t r;

	while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
		if (r == app_pid) {
			app_dead = true;
			app_status = st;
		}
	}
}

static void app_kill(void)
{
	int64_t end = tr_now_ms() + 10000;

	if (app_pid <= 0)
		return;
	reap();
	if (!app_dead) {
		kill(app_pid, SIGKILL);
		while (!app_dead && tr_now_ms() < end) {
			tr_msleep(10);
			reap();
		}
	}
	app_pid = -1;
}

/* In sending mode, the peer's share of a tick: more data, if it goes */
static void peer_stream(void *arg)
{
	struct group *g = arg;
	int i, r;

	tr_msleep(TICK_MS);
	if (g->mode != MODE_SENDING)
		return;
	for (i = 0; i < NCONN; i++) {
		struct conn *c = &g->c[i];

		if (c->pfd < 0 || c->kind >= K_NR || !kinds[c->kind].streams ||
		    c->p2a.fin_sent || c->perr[0])
			continue;
		if (c->p2a.total - c->p2a.sent < 65536)
			c->p2a.total += TICK_LEN;
		r = stream_send(c->pfd, &c->p2a, UINT64_MAX);
		if (r)
			seterr(c->perr, sizeof(c->perr), "%s: send: %s",
			       r == -ECONNRESET || r == -EPIPE ? "reset" : "send",
			       strerror(-r));
	}
}

static int app_start(struct group *g)
{
	pid_t pid;
	int i;

	fflush(stdout);
	fflush(stderr);
	app_dead = false;
	driver_pid = getpid();
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid)
		app_main(g);
	app_pid = pid;
	for (i = 0; i < NCONN; i++) {
		struct conn *c = &g->c[i];

		if (c->afd >= 0)
			close(c->afd);
		if (c->alfd >= 0)
			close(c->alfd);
		c->afd = c->alfd = -1;
	}
	return 0;
}

/* Ask the app what its sockets say (obs[@k]) or how it ended (final) */
static int app_ask(struct group *g, int sig, const char *what, int k, int ms)
{
	char path[PATH_MAX + 64], line[512], text[256];
	unsigned long long a, b;
	int64_t end = tr_now_ms() + ms;
	int i, v[9], x, y;
	FILE *f;

	report_path(g, path, sizeof(path), what);
	if (sig)
		unlink(path);
	if (sig && kill(app_pid, sig)) {
		tr_log("the app (pid %d) is gone: %s", app_pid, strerror(errno));
		return -1;
	}
	while (access(path, F_OK)) {
		if (tr_now_ms() > end) {
			tr_log("no %s from the app in %d s", what, ms / 1000);
			return -1;
		}
		/* the peer starts sending once the dumped state is known */
		if (k || !sig)
			peer_stream(g);
		else
			tr_msleep(TICK_MS);
	}
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "obs %d %d %d %d %d %d %d %d %d %d", &i,
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7], &v[8]) == 10 && i >= 0 && i < NCONN) {
			struct obs *o = &g->c[i].obs[k];

			*o = (struct obs){ true, v[0], v[1], v[2], v[3], v[4],
					   v[5], v[6], v[7], v[8] };
		} else if (sscanf(line, "end %d %llu %d %llu %d %255[^\n]", &i,
				  &a, &x, &b, &y, text) == 6 && i >= 0 && i < NCONN) {
			struct conn *c = &g->c[i];

			/* the app's account: what it sent, what it got */
			c->fin = (struct app_end){ true, a, x, b, y };
			if (strcmp(text, "-"))
				snprintf(c->aerr, sizeof(c->aerr), "%.*s",
					 (int)sizeof(c->aerr) - 1, text);
		}
	}
	fclose(f);
	return 0;
}

static const char *const when[NOBS] = {
	"before the dump", "after restore 1", "after restore 2",
};

/* What the app reported (obs[@k]) against what was dumped */
static void check_obs(struct group *g, int k)
{
	int i;

	for (i = 0; i < NCONN; i++) {
		struct conn *c = &g->c[i];
		const struct kind_desc *d = &kinds[c->kind];
		struct obs *o = &c->obs[k], *b = &c->obs[0];

		if (c->kind == K_NEW || c->v.reason[0] || c->skip ||
		    (c->pfd < 0 && c->plfd < 0))
			continue;
		if (!o->valid) {
			tr_verdict_set(&c->v, "report",
				       "%s: the app reported nothing", when[k]);
			continue;
		}
		vlog("%s %s.%s: %s reuse %d inq %d outq %d unsent %d%s",
		     when[k], fam_name[c->fam], d->name, tr_state_str(o->state),
		     o->reuse, o->inq, o->outq, o->nsd,
		     o->tuple_ok ? "" : " (addresses differ)");
		if (o->state != d->state)
			tr_verdict_set(&c->v, "state", "%s: %s, dumped %s",
				       when[k], tr_state_str(o->state),
				       tr_state_str(d->state));
		else if (o->reuse != d->reuse)
			tr_verdict_set(&c->v, "reuseaddr",
				       "%s: SO_REUSEADDR %d, the app set %d",
				       when[k], o->reuse, d->reuse);
		else if (c->kind == K_LISTEN && o->lstate != TR_LISTEN)
			tr_verdict_set(&c->v, "state", "%s: listener %s",
				       when[k], tr_state_str(o->lstate));
		else if (c->kind == K_LISTEN && o->lreuse != 1)
			tr_verdict_set(&c->v, "reuseaddr",
				       "%s: listener SO_REUSEADDR %d, the app set 1",
				       when[k], o->lreuse);
		else if (!o->tuple_ok)
			tr_verdict_set(&c->v, "tuple",
				       "%s: addresses or ports differ", when[k]);
		else if (o->err)
			tr_verdict_set(&c->v, "error", "%s: SO_ERROR %s",
				       when[k], strerror(o->err));
		else if (k == 0 && c->kind != K_SYN_SENT && o->inq != SETUP_IN &&
			 !(g->mode == MODE_SENDING && d->live_read))
			tr_verdict_set(&c->v, "setup", "%d bytes unread, want %d",
				       o->inq, SETUP_IN);
		else if (k == 0 && c->kind == K_EST &&
			 (o->nsd <= 0 || o->outq - o->nsd <= 0))
			tr_verdict_set(&c->v, "setup",
				       "send queue %d, %d never sent: want both sent and unsent data",
				       o->outq, o->nsd);
		else if (k == 0 && c->kind == K_LAST_ACK && o->nsd <= 0)
			tr_verdict_set(&c->v, "setup",
				       "send queue %d, %d never sent: want an unsent tail",
				       o->outq, o->nsd);
		else if (k > 0 && g->mode == MODE_QUIET && c->kind != K_SYN_SENT &&
			 (o->inq != b->inq || o->outq != b->outq))
			tr_verdict_set(&c->v, "queue",
				       "%s: %d unread, send queue %d; dumped %d, %d",
				       when[k], o->inq, o->outq, b->inq, b->outq);
	}
}

/* The rest of the streams, from the peer's end, with the app doing its own */
static void finish(struct group *g)
{
	int64_t end = tr_now_ms() + FINISH_MS + 10000;
	struct sockaddr_storage to;
	struct pollfd p[2 * NCONN];
	bool done;
	int i, n, e;

	if (nft_unblock(g)) {
		tr_verdict_set(&g->fail, "setup",
			       "removing the peer's nftables table");
		return;
	}
	for (i = 0; i < NCONN; i++) {
		struct conn *c = &g->c[i];

		if (c->kind < K_NR && kinds[c->kind].streams && !c->p2a.fin_sent)
			c->p2a.total = c->p2a.sent + FINAL_LEN;
		if (c->kind == K_NEW && conn_of(g, c->fam, K_LISTEN)->pfd >= 0) {
			c->pfd = peer_socket(peer_domain(c->fam), SOCK_STREAM);
			mkaddr(peer_domain(c->fam), c->fam, false,
			       app_listen_port(c->fam), &to);
			e = c->pfd < 0 ? c->pfd : 0;
			if (!e && connect(c->pfd, (void *)&to, tr_addr_len(&to)) &&
			    errno != EINPROGRESS)
				e = -errno;
			if (e)
				seterr(c->perr, sizeof(c->perr), "connect: %s",
				       strerror(-e));
			c->aport = app_listen_port(c->fam);
			c->pport = c->pfd >= 0 ? tr_local_port(c->pfd) : 0;
		}
	}
	if (kill(app_pid, SIGUSR2)) {
		tr_verdict_set(&g->fail, "app", "the app is gone");
		return;
	}
	do {
		n = 0;
		done = true;
		for (i = 0; i < NCONN; i++) {
			struct conn *c = &g->c[i];

			if (c->kind == K_SYN_SENT && c->pfd < 0 && c->plfd >= 0) {
				c->pfd = accept4(c->plfd, NULL, NULL,
						 SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (c->pfd < 0) {
					p[n++] = (struct pollfd){ c->plfd, POLLIN };
					done = false;
					continue;
				}
			}
			if (c->pfd < 0 || c->perr[0])
				continue;
			if (c->kind == K_NEW && !c->connected) {
				c->connected = connected(c->pfd, c->perr, sizeof(c->perr));
				if (!c->connected) {
					p[n++] = (struct pollfd){ c->pfd, POLLOUT };
					done = false;
					continue;
				}
			}
			if (side_step(c->pfd, &c->p2a, &c->a2p, c->perr,
				      sizeof(c->perr)))
				continue;
			done = false;
			p[n++] = (struct pollfd){ c->pfd, POLLIN |
				(c->p2a.sent < c->p2a.total ? POLLOUT : 0) };
		}
		reap();
		if (!done)
			poll(p, n, 20);
	} while ((!done || !app_dead) && tr_now_ms() < end);

	for (i = 0; i < NCONN; i++) {
		struct conn *c = &g->c[i];

		if (c->kind == K_SYN_SENT && c->pfd < 0 && c->plfd >= 0)
			seterr(c->perr, sizeof(c->perr),
			       "timeout: the SYN never got through");
		if (c->pfd >= 0 && !c->perr[0] && !(c->p2a.fin_sent && c->a2p.eof))
			seterr(c->perr, sizeof(c->perr),
			       "timeout: %s, %llu/%llu sent, %llu received%s",
			       tr_state_str(tr_tcp_state(c->pfd)),
			       (unsigned long long)c->p2a.sent,
			       (unsigned long long)c->p2a.total,
			       (unsigned long long)c->a2p.rcvd,
			       c->a2p.eof ? ", EOF" : "");
		/* an error pending at the end: a RST, most likely */
		e = c->pfd >= 0 ? tr_sock_error(c->pfd) : 0;
		if (e > 0)
			seterr(c->perr, sizeof(c->perr), "reset: SO_ERROR %s at the end",
			       strerror(e));
	}
	for (i = 0; i < NCONN; i++)
		if (g->c[i].perr[0] || g->c[i].aerr[0])
			break;
	if (i < NCONN) {
		ss_log(ns_app, "app");
		ss_log(ns_peer, "peer");
	}
	if (!app_dead)
		tr_log("the app did not exit in %d s", FINISH_MS / 1000);
	else if (app_ask(g, 0, "final", 0, 1000))
		tr_log("no final report from the app");
	/* the last ACKs of the closes */
	for (i = 0; i < NCONN; i++)
		conn_close(&g->c[i]);
}

/* "reset: recv: ..." gives "reset" */
static void reason_of(const char *err, char *out, size_t len)
{
	size_t n = strcspn(err, ":");

	snprintf(out, len, "%.*s", (int)(err[n] ? n : 5), err[n] ? err : "error");
}

/* The end of the streams, against both accounts */
static void check_end(struct group *g)
{
	int i;

	for (i = 0; i < NCONN; i++) {
		struct conn *c = &g->c[i];
		struct conn *l = conn_of(g, c->fam, K_LISTEN);
		char r[16];

		if (c->v.reason[0] || c->skip)
			continue;
		if (c->kind == K_NEW ? !l->obs[0].valid || l->v.reason[0] :
				       !c->obs[0].valid)
			continue;
		if (c->aerr[0]) {
			reason_of(c->aerr, r, sizeof(r));
			tr_verdict_set(&c->v, r, "app: %s", c->aerr);
		} else if (c->perr[0]) {
			reason_of(c->perr, r, sizeof(r));
			tr_verdict_set(&c->v, r, "peer: %s", c->perr);
		} else if (!c->fin.valid) {
			tr_verdict_set(&c->v, "report",
				       "no final report from the app");
		} else if (c->fin.a2p_sent != c->a2p.total || !c->fin.a2p_fin) {
			tr_verdict_set(&c->v, "data",
				       "the app sent %llu of %llu bytes%s",
				       (unsigned long long)c->fin.a2p_sent,
				       (unsigned long long)c->a2p.total,
				       c->fin.a2p_fin ? "" : ", no FIN");
		} else if (c->a2p.rcvd != c->fin.a2p_sent || !c->a2p.eof) {
			tr_verdict_set(&c->v, "data",
				       "app to peer: %llu bytes of %llu arrived%s",
				       (unsigned long long)c->a2p.rcvd,
				       (unsigned long long)c->fin.a2p_sent,
				       c->a2p.eof ? "" : ", no EOF");
		} else if (c->fin.p2a_rcvd != c->p2a.sent || !c->fin.p2a_eof) {
			tr_verdict_set(&c->v, "data",
				       "peer to app: %llu bytes of %llu arrived%s",
				       (unsigned long long)c->fin.p2a_rcvd,
				       (unsigned long long)c->p2a.sent,
				       c->fin.p2a_eof ? "" : ", no EOF");
		} else {
			vlog("%s.%s: %llu bytes to the peer, %llu to the app, EOF both ways",
			     fam_name[c->fam], kinds[c->kind].name,
			     (unsigned long long)c->a2p.rcvd,
			     (unsigned long long)c->p2a.sent);
		}
	}
}

static int criu_step(struct group *g, int cycle, bool dump, double *secs)
{
	char dir[PATH_MAX + 64], pid[16], log[PATH_MAX + 80], first[512];
	char *argv[20];
	int64_t t0 = tr_now_ms();
	int n = 0, st;

	snprintf(dir, sizeof(dir), "%s/%s.img%d", workdir, g->name, cycle + 1);
	snprintf(pid, sizeof(pid), "%d", app_pid);
	if (dump && mkdir(dir, 0700)) {
		tr_log("mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(log, sizeof(log), "%s/%s.out", dir, dump ? "dump" : "restore");
	argv[n++] = (char *)criu_bin;
	argv[n++] = dump ? "dump" : "restore";
	if (dump) {
		argv[n++] = "-t";
		argv[n++] = pid;
	} else {
		argv[n++] = "--restore-detached";
	}
	argv[n++] = "-D";
	argv[n++] = dir;
	argv[n++] = "-o";
	argv[n++] = dump ? "dump.log" : "restore.log";
	argv[n++] = "-v4";
	argv[n++] = "--tcp-established";
	argv[n++] = "--network-lock";
	argv[n++] = (char *)g->lock;
	argv[n] = NULL;
	st = run(argv, ns_app, log, CRIU_MS, peer_stream, g);
	*secs = (tr_now_ms() - t0) / 1000.0;
	if (st == 0)
		return 0;
	tr_log("criu %s %d failed (status %d) after %.1f s; its errors:",
	       argv[1], cycle + 1, st, *secs);
	snprintf(log, sizeof(log), "%s/%s.log", dir, dump ? "dump" : "restore");
	log_errors(log, first, sizeof(first));
	tr_verdict_set(&g->fail, dump ? "dump" : "restore", "criu %s %d: %s",
		       argv[1], cycle + 1,
		       first[0] ? first : "failed, no error in its log");
	return -1;
}

/* After a dump, CRIU has killed the app */
static int wait_app_gone(struct group *g)
{
	int64_t end = tr_now_ms() + 10000;

	while (!app_dead && tr_now_ms() < end) {
		peer_stream(g);
		reap();
	}
	if (!app_dead) {
		tr_verdict_set(&g->fail, "dump",
			       "the dumped app is still running after criu dump");
		return -1;
	}
	app_dead = false;
	if (!WIFSIGNALED(app_status) || WTERMSIG(app_status) != SIGKILL) {
		tr_verdict_set(&g->fail, "dump",
			       "the dumped app ended with status %#x, not by criu's SIGKILL",
			       app_status);
		return -1;
	}
	return 0;
}

static void group_init(struct group *g, enum mode mode, const char *lock)
{
	int f, k;

	memset(g, 0, sizeof(*g));
	g->mode = mode;
	g->lock = lock;
	snprintf(g->name, sizeof(g->name), "%s_%s",
		 mode == MODE_QUIET ? "quiet" : "sending", lock);
	for (f = 0; f < FAM_NR; f++)
		for (k = 0; k <= K_NR; k++) {
			struct conn *c = conn_of(g, f, k);

			c->fam = f;
			c->kind = k;
			c->afd = c->alfd = c->pfd = c->plfd = -1;
			c->a2p.id = (f * (K_NR + 1) + k) * 2;
			c->p2a.id = c->a2p.id + 1;
		}
}

/*
 * The RSTs the kernel sends, by address, state and reason: the
 * tcp:tcp_send_reset events, in a tracefs instance of our own while a
 * group runs (if tracefs is there), as diagnostics. Before 6.10, the
 * event has no reason and is not emitted for a RST sent without a full
 * socket (no socket, or one in TIME_WAIT).
 */
static void trace_start(void)
{
	char path[PATH_MAX + 64], buf[4096] = "";
	size_t i;
	FILE *f;

	for (i = 0; i < ARRAY_SIZE(tr_tracefs_roots); i++) {
		snprintf(path, sizeof(path),
			 "%s/events/tcp/tcp_send_reset/format",
			 tr_tracefs_roots[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		buf[fread(buf, 1, sizeof(buf) - 1, f)] = 0;
		fclose(f);
		break;
	}
	trace_all = strstr(buf, "field:") && strstr(buf, " reason;");

	for (i = 0; i < ARRAY_SIZE(tr_tracefs_roots); i++) {
		snprintf(trace_dir, sizeof(trace_dir), "%s/instances/%s%d",
			 tr_tracefs_roots[i], TR_TRACE_INSTANCE, getpid());
		if (mkdir(trace_dir, 0700))
			continue;
		snprintf(path, sizeof(path), "%s/events/tcp/tcp_send_reset/enable",
			 trace_dir);
		if (!write_file(path, "1"))
			return;
		rmdir(trace_dir);
	}
	trace_dir[0] = 0;
}

static void trace_stop(void)
{
	char path[PATH_MAX + 64];

	if (!trace_dir[0])
		return;
	snprintf(path, sizeof(path), "%s/events/tcp/tcp_send_reset/enable",
		 trace_dir);
	write_file(path, "0");
	rmdir(trace_dir);
	trace_dir[0] = 0;
}

/* The port of "src=192.0.2.1:20000" or "dest=[2001:db8::1]:20100" */
static int trace_port(const char *line, const char *key)
{
	const char *p = strstr(line, key), *end;

	if (!p)
		return -1;
	end = p + strcspn(p, " ");
	while (end > p && end[-1] != ':')
		end--;
	return end > p ? atoi(end) : -1;
}

static bool conn_ports(const struct conn *c, int a, int b)
{
	return (a == c->aport && b == c->pport) || (a == c->pport && b == c->aport);
}

/*
 * When a listener (the app's, or the peer's for SYN_SENT) answers a
 * segment that found no connection, the event shows the listener's own
 * addresses (and, before 6.10, no reason): a late duplicate if every
 * connection on that port ended in order.
 */
static bool listener_answer(const struct group *g, const char *line)
{
	const char *p = strstr(line, " sport=");	/* before 6.10 */
	int port = p ? atoi(p + 7) : trace_port(line, "src="), n = 0, i;

	if (!strstr(line, "state=TCP_LISTEN"))
		return false;
	for (i = 0; i < NCONN; i++) {
		if ((g->c[i].aport != port && g->c[i].pport != port) ||
		    g->c[i].skip)
			continue;
		if (g->c[i].v.reason[0])
			return false;
		n++;
	}
	return n > 0;
}

/*
 * The RSTs sent since the last call, logged and cleared; @traced is how
 * many the trace shows. Returns how many of them answered, for want of a
 * socket, a segment of a connection that ended in order on both sides
 * (its case passed): a late duplicate, which a passive close that got the
 * last ACK answers that way. -1 without tracing.
 */
static int trace_rsts(struct group *g, const char *when, long *traced)
{
	char path[PATH_MAX + 64], line[512];
	int late = 0, i, a, b, fd;
	FILE *f;

	*traced = 0;
	if (!trace_dir[0])
		return -1;
	snprintf(path, sizeof(path), "%s/trace", trace_dir);
	f = fopen(path, "r");
	if (!f) {
		tr_log("%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = 0;
		(*traced)++;
		tr_log("RST sent %s:%s", when, strstr(line, "tcp_send_reset:") ?
		       strstr(line, "tcp_send_reset:") + 15 : line);
		a = trace_port(line, "src=");
		b = trace_port(line, "dest=");
		if (listener_answer(g, line)) {
			late++;
			continue;
		}
		if (!strstr(line, "reason=NO_SOCKET"))
			continue;
		for (i = 0; i < NCONN; i++)
			if (g->c[i].aport && conn_ports(&g->c[i], a, b) &&
			    !g->c[i].v.reason[0] && !g->c[i].skip) {
				late++;
				break;
			}
	}
	fclose(f);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd >= 0)
		close(fd);
	return late;
}

static bool failed(const struct group *g)
{
	int i;

	for (i = 0; i < NCONN; i++)
		if (g->c[i].v.reason[0])
			return true;
	return false;
}

static void group_run(struct group *g)
{
	int64_t t0 = tr_now_ms(), t;
	char *p, *e = g->fail.detail + sizeof(g->fail.detail);
	int k, i, ns, silent = 0, late;
	long traced;

	if (netns_setup()) {
		tr_verdict_set(&g->fail, "setup", "namespaces and links");
		return;
	}
	trace_start();
	if (rst_read(g->rst[0]) || setup(g) || app_start(g)) {
		tr_verdict_set(&g->fail, "setup", "counters or fork");
		goto out;
	}
	g->t_setup = (tr_now_ms() - t0) / 1000.0;
	if (app_ask(g, SIGUSR1, "report", 0, REPORT_MS))
		goto app_lost;
	check_obs(g, 0);
	for (k = 0; k < 2; k++) {
		if (!no_criu) {
			if (criu_step(g, k, true, &g->t_dump[k]) ||
			    wait_app_gone(g) ||
			    criu_step(g, k, false, &g->t_restore[k]))
				goto out;
			reap();
			if (app_dead || kill(app_pid, 0)) {
				tr_verdict_set(&g->fail, "restore",
					       "criu restore %d succeeded, but the app is not running",
					       k + 1);
				goto out;
			}
		}
		if (app_ask(g, SIGUSR1, "report", k + 1, REPORT_MS))
			goto app_lost;
		check_obs(g, k + 1);
	}
	/* What CRIU did reset nothing: the counters until now, strictly */
	if (rst_read(g->rst[1])) {
		tr_verdict_set(&g->fail, "counters",
			       "cannot read the MIB counters");
		goto out;
	}
	trace_rsts(g, "before the end", &traced);
	t = tr_now_ms();
	finish(g);
	g->t_finish = (tr_now_ms() - t) / 1000.0;
	check_end(g);
	tr_msleep(500);		/* the last ACKs */
	if (rst_read(g->rst[2])) {
		tr_verdict_set(&g->fail, "counters",
			       "cannot read the MIB counters");
		goto out;
	}
	late = trace_rsts(g, "at the end", &traced);
	p = g->fail.detail + strlen(g->fail.detail);	/* after finish()'s */

	/*
	 * CRIU closes the dumped sockets in repair mode: silently, but those
	 * in ESTABLISHED or CLOSE_WAIT count in TcpEstabResets on the way.
	 * At the end, a passive close that got its last ACK answers a late
	 * duplicate of the other side (a spurious retransmission, under
	 * load) with a RST: those the trace shows are no failure.
	 */
	for (k = 0; k < 2 && !no_criu; k++)
		for (i = 0; i < NCONN; i++)
			if (g->c[i].kind < K_NR &&
			    (g->c[i].obs[k].state == TR_ESTABLISHED ||
			     g->c[i].obs[k].state == TR_CLOSE_WAIT))
				silent++;
	for (k = 0; k < 2; k++) {
		long outrsts = 0;

		for (ns = 0; ns < 2; ns++)
			for (i = 0; i < (int)NRST; i++) {
				long d = g->rst[k + 1][ns][i] - g->rst[k][ns][i];
				long want = !k && !ns &&
					    !strcmp(rst_names[i], "TcpEstabResets") ?
					    silent : 0;

				if (k && !strcmp(rst_names[i], "TcpOutRsts")) {
					outrsts += d;
					continue;
				}
				if (d != want && p < e)
					p += snprintf(p, e - p, "%s%s %s %+ld, %ld expected%s",
						      p == g->fail.detail ? "" : ", ",
						      ns ? "peer" : "app", rst_names[i],
						      d, want, k ? " at the end" : "");
			}
		/*
		 * Where the trace leaves out the RSTs sent without a full
		 * socket (before 6.10), those answered segments that found
		 * no socket, or one in TIME_WAIT, in namespaces where only
		 * the group's connections run: late duplicates if every one
		 * of them ended in order.
		 */
		if (k && late >= 0 && !trace_all && outrsts > traced &&
		    !failed(g)) {
			tr_log("%ld RSTs at the end not traced (sent without a full socket, which this kernel does not trace); every connection ended in order: late duplicates",
			       outrsts - traced);
			late += outrsts - traced;
		}
		if (k && outrsts && outrsts != late && p < e)
			p += snprintf(p, e - p, "%s%ld RSTs at the end, %s",
				      p == g->fail.detail ? "" : ", ", outrsts,
				      late < 0 ? "no tracefs to tell what they answered" :
				      "not all of them to late duplicates");
	}
	if (late > 0)
		tr_log("%d RSTs at the end answered late duplicates", late);
	if (verbose || g->fail.detail[0] || failed(g)) {
		tr_log("%s: TCP counters that moved:", g->name);
		mib_log(ns_app, "app");
		mib_log(ns_peer, "peer");
	}
	if (g->fail.detail[0] && !g->fail.reason[0])
		snprintf(g->fail.reason, sizeof(g->fail.reason), "rst");
	goto out;
app_lost:
	tr_verdict_set(&g->fail, "app", "the app did not answer");
out:
	app_kill();
	for (i = 0; i < NCONN; i++)
		conn_close(&g->c[i]);
	if (g->fail.detail[0] || failed(g))
		trace_rsts(g, "until it failed", &traced);
	trace_stop();
	tr_log("%s: setup %.1f s, dump %.1f + %.1f s, restore %.1f + %.1f s, end %.1f s, %.1f s in all",
	       g->name, g->t_setup, g->t_dump[0], g->t_dump[1], g->t_restore[0],
	       g->t_restore[1], g->t_finish, (tr_now_ms() - t0) / 1000.0);
}

/* ---- KTAP --------------------------------------------------------------- */

static int ntest, npass, nfail, nskip;

static void result(const char *name, const char *skip, const char *reason,
		   const char *why)
{
	printf("#  RUN           %s ...\n", name);
	ntest++;
	if (skip) {
		nskip++;
		printf("#      SKIP      %s\n", skip);
		printf("ok %d %s # SKIP %s\n", ntest, name, skip);
	} else if (why && why[0]) {
		nfail++;
		printf("# FAIL: %s: %s\n", reason, why);
		printf("#          FAIL  %s\n", name);
		printf("not ok %d %s\n", ntest, name);
	} else if (no_criu) {
		/* the program's own checks held, but CRIU did nothing */
		nskip++;
		printf("#      SKIP      CRIU=none: no dump, no restore\n");
		printf("ok %d %s # SKIP CRIU=none: no dump, no restore\n",
		       ntest, name);
	} else {
		npass++;
		printf("#            OK  %s\n", name);
		printf("ok %d %s\n", ntest, name);
	}
	fflush(stdout);
}

static void group_print(struct group *g, const char *skip)
{
	char name[96], why[400];
	int f, k;

	for (f = 0; f < FAM_NR; f++)
		for (k = 0; k < K_NR; k++) {
			struct conn *c = conn_of(g, f, k);
			struct conn *n = conn_of(g, f, K_NEW);
			const char *reason = c->v.reason, *w = c->v.detail;

			snprintf(name, sizeof(name), "%s.%s.%s", g->name,
				 fam_name[f], kinds[k].name);
			if (!w[0] && k == K_LISTEN && n->v.reason[0]) {
				snprintf(why, sizeof(why), "new connection: %s",
					 n->v.detail);
				reason = n->v.reason;
				w = why;
			}
			if (!w[0] && g->fail.reason[0] &&
			    strcmp(g->fail.reason, "rst")) {
				reason = g->fail.reason;
				w = g->fail.detail;
			}
			result(name, skip ?: c->skip, reason, w);
		}
	snprintf(name, sizeof(name), "%s.all.no_rst", g->name);
	if (!skip && g->fail.reason[0] && strcmp(g->fail.reason, "rst"))
		result(name, NULL, g->fail.reason,
		       "not reached: the run failed before the end");
	else
		result(name, skip, "rst",
		       strcmp(g->fail.reason, "rst") ? "" : g->fail.detail);
}

/* ---- main --------------------------------------------------------------- */

static void rm_rf(const char *path)
{
	char *argv[] = { "rm", "-rf", (char *)path, NULL };

	run(argv, -1, "/dev/null", 60000, NULL, NULL);
}

static void keep_logs(void)
{
	const char *res = getenv("RESULTS");
	char dst[PATH_MAX];
	char *argv[] = { "cp", "-r", workdir, dst, NULL };
	struct stat st;

	if (!res || stat(res, &st) || !S_ISDIR(st.st_mode))
		return;
	snprintf(dst, sizeof(dst), "%s/criu_migrate", res);
	rm_rf(dst);
	if (!run(argv, -1, "/dev/null", 60000, NULL, NULL))
		tr_log("CRIU's images and logs: %s", dst);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: criu_tcp [-v] [--exclude NAME=REASON]... MODE:LOCK...\n"
		"       criu_tcp --skip REASON MODE:LOCK...\n"
		"MODE quiet or sending, LOCK iptables or nftables; NAME a\n"
		"family (ipv4, ipv6, mapped), a state (established...) or both\n"
		"(mapped.syn_sent). CRIU=path: the criu binary, CRIU=none: no\n"
		"dump and restore.\n");
	exit(KSFT_FAIL);
}

int main(int argc, char **argv)
{
	static struct group groups[4];
	const char *excl[16], *skip = NULL, *env;
	sigset_t usr;
	int ngroups = 0, nexcl = 0, i, f, k, e;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		char *colon = strchr(argv[i], ':');

		if (!strcmp(argv[i], "-v")) {
			verbose = true;
		} else if (!strcmp(argv[i], "--skip") && i + 1 < argc) {
			skip = argv[++i];
		} else if (!strcmp(argv[i], "--exclude") && i + 1 < argc &&
			   strchr(argv[i + 1], '=') && nexcl < (int)ARRAY_SIZE(excl)) {
			excl[nexcl++] = argv[++i];
		} else if (colon && ngroups < (int)ARRAY_SIZE(groups) &&
			   (!strncmp(argv[i], "quiet:", 6) ||
			    !strncmp(argv[i], "sending:", 8)) &&
			   (!strcmp(colon + 1, "iptables") ||
			    !strcmp(colon + 1, "nftables"))) {
			group_init(&groups[ngroups++],
				   argv[i][0] == 'q' ? MODE_QUIET : MODE_SENDING,
				   colon + 1);
		} else {
			usage();
		}
	}
	if (!ngroups)
		usage();
	/* --exclude: cases CRIU is known not to handle, with the reason */
	for (e = 0; e < nexcl; e++)
		for (i = 0; i < ngroups; i++) {
			size_t n = strchr(excl[e], '=') - excl[e];

			if (n == strlen(groups[i].name) &&
			    !strncmp(excl[e], groups[i].name, n))
				groups[i].skip = excl[e] + n + 1;
			for (f = 0; f < FAM_NR; f++)
				for (k = 0; k < K_NR; k++) {
					char full[64];
					size_t n = strchr(excl[e], '=') - excl[e];

					snprintf(full, sizeof(full), "%s.%s",
						 fam_name[f], kinds[k].name);
					if ((n == strlen(full) && !strncmp(excl[e], full, n)) ||
					    (n == strlen(fam_name[f]) && !strncmp(excl[e], fam_name[f], n)) ||
					    (n == strlen(kinds[k].name) && !strncmp(excl[e], kinds[k].name, n)))
						conn_of(&groups[i], f, k)->skip = excl[e] + n + 1;
				}
		}

	printf("TAP version 13\n1..%d\n", ngroups * (FAM_NR * K_NR + 1));
	if (skip) {
		for (i = 0; i < ngroups; i++)
			group_print(&groups[i], skip);
		printf("# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:%d error:0\n",
		       nskip);
		return KSFT_SKIP;
	}

	env = getenv("CRIU");
	if (env && !strcmp(env, "none"))
		no_criu = true;
	else if (env && env[0])
		criu_bin = env;
	snprintf(workdir, sizeof(workdir), "%s/criu_migrate.XXXXXX",
		 getenv("TMPDIR") ?: "/tmp");
	if (!mkdtemp(workdir)) {
		printf("# mkdtemp %s: %s\n", workdir, strerror(errno));
		return KSFT_FAIL;
	}
	/* the restored app, detached by criu, must come back to us */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		printf("# PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
		rm_rf(workdir);
		return KSFT_FAIL;
	}
	/* what we run (tr_ns_spawn() keeps our stdin) reads nothing */
	e = open("/dev/null", O_RDONLY);
	if (e > 0) {
		dup2(e, 0);
		close(e);
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	/* blocked from the start: the app takes them in ppoll() only */
	sigemptyset(&usr);
	sigaddset(&usr, SIGUSR1);
	sigaddset(&usr, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr, NULL);
	tr_fill(pat, sizeof(pat), 0);
	if (no_criu)
		tr_log("CRIU=none: no dump, no restore");

	for (i = 0; i < ngroups; i++) {
		for (k = 0; k < NCONN; k++)
			if (groups[i].c[k].kind == K_NEW &&
			    conn_of(&groups[i], groups[i].c[k].fam, K_LISTEN)->skip)
				groups[i].c[k].skip = "listener skipped";
		if (!groups[i].skip)
			group_run(&groups[i]);
		group_print(&groups[i], groups[i].skip);
	}
	if (nfail)
		keep_logs();
	rm_rf(workdir);
	reap();
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
	       npass, nfail, nskip);
	if (nfail)
		return KSFT_FAIL;
	return npass ? KSFT_PASS : KSFT_SKIP;
}
