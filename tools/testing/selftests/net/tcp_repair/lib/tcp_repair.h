/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the TCP_REPAIR selftests.
 *
 * netns.c   anonymous network namespaces joined by veth pairs
 * sock.c    connections, queue/state getters, bounded waits, data I/O
 * repair.c  dump of a TCP socket in repair mode and its restore
 * inject.c  hand-made TCP segments sent from a raw socket
 * trace.c   counting skb:kfree_skb events in a private ftrace instance
 * migrate.c a guest namespace behind origin and target, addresses moving
 * relay.c   a relay between peer and guest that migrates under load
 *
 * Functions return 0 (or a file descriptor, or a value) on success and
 * -errno on failure; those doing more than one system call say why first.
 */
#ifndef TCP_REPAIR_SELFTEST_H
#define TCP_REPAIR_SELFTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <linux/sock_diag.h>
#include <linux/tcp.h>

#include "../../../kselftest.h"

/* Older kselftest.h (6.1) has no __printf: format checks on newer ones */
#ifndef __printf
#define __printf(...)
#endif

#ifndef SOL_TCP
#define SOL_TCP			6
#endif
#ifndef SO_MEMINFO
#define SO_MEMINFO		55
#endif
#ifndef IP_TRANSPARENT
#define IP_TRANSPARENT		19
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT	75
#endif
#ifndef IPV6_CHECKSUM
#define IPV6_CHECKSUM		7
#endif
#ifndef SIOCOUTQNSD
#define SIOCOUTQNSD		0x894B
#endif

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

/* Bounded waits, in milliseconds */
#define TR_SETUP_TIMEOUT	5000	/* links up, routes installed */
#define TR_ARRIVAL_TIMEOUT	5000	/* a segment sent now reaches its socket */
#define TR_RETRANS_TIMEOUT	10000	/* the peer's next retransmission */

void tr_log(const char *fmt, ...) __printf(1, 2);

/* ---- netns.c ---------------------------------------------------------- */

/*
 * peer <-veth-> origin and peer <-veth-> target. The service address lives
 * on origin's loopback and moves to target's; the peer's address lives on
 * the peer's loopback. Routes are /32 (/128) device routes with permanent
 * neighbour entries, so no ARP or neighbour discovery ever runs.
 */
enum tr_ns {
	TR_PEER,
	TR_ORIGIN,
	TR_TARGET,
	TR_NS_NR,
};

enum tr_host {
	TR_SERVICE,	/* the migrating address: 192.0.2.1, 2001:db8::1 */
	TR_CLIENT,	/* the peer's address: 192.0.2.100, 2001:db8::100 */
};

struct tr_topo {
	int family;
	int ns[TR_NS_NR];
	enum tr_ns service_in;		/* where the service address is */
	bool mapped;			/* AF_INET6 sockets, ::ffff:a.b.c.d */
};

int tr_ns_new(void);
int tr_ns_socket(int ns, int domain, int type, int protocol);
int tr_ns_run(int ns, int (*fn)(void *), void *arg);
int tr_ip(int ns, const char *fmt, ...) __printf(2, 3);
/* ip(8) commands for one namespace, run by one "ip -batch -" */
struct tr_ipb {
	char buf[2048];
	size_t len;
	bool overflow;
};

void tr_ipb_add(struct tr_ipb *b, const char *fmt, ...) __printf(2, 3);
int tr_ip_batch(int ns, const struct tr_ipb *b);
int tr_link_wait_up(int ns, const char *ifname, int timeout_ms);
int tr_route_wait(int ns, const struct sockaddr_storage *src,
		  const struct sockaddr_storage *dst, int timeout_ms);
/* A program run in @ns, killed with its parent; its pid or -errno */
pid_t tr_ns_spawn(int ns, char *const argv[], int out, int err);

/* A sockaddr_in or sockaddr_in6 from an address string and a port */
void tr_sockaddr(int family, const char *addr, uint16_t port,
		 struct sockaddr_storage *ss);
void tr_addr(int family, enum tr_host host, uint16_t port,
	     struct sockaddr_storage *ss);
socklen_t tr_addr_len(const struct sockaddr_storage *ss);
const char *tr_addr_str(const struct sockaddr_storage *ss);

int tr_topo_init(struct tr_topo *t, int family);
/* The IPv4 topology, used by AF_INET6 sockets with v4-mapped addresses */
int tr_topo_init_mapped(struct tr_topo *t);
/* What sockets on @t use: their family and the addresses they see */
int tr_topo_sock_family(const struct tr_topo *t);
void tr_topo_addr(const struct tr_topo *t, enum tr_host host, uint16_t port,
		  struct sockaddr_storage *ss);
void tr_topo_fini(struct tr_topo *t);
/* Drop what @from sends to the other end of its path (bogus MAC) or not. */
int tr_topo_block(struct tr_topo *t, enum tr_ns from, bool block);
/* Migration, in this order: isolate, move, (restore), switch. */
int tr_topo_isolate_origin(struct tr_topo *t);
int tr_topo_move_service(struct tr_topo *t);
int tr_topo_switch_peer(struct tr_topo *t);

/* ---- sock.c ----------------------------------------------------------- */

int64_t tr_now_ms(void);
void tr_msleep(int ms);

/* tcpi_state values (include/net/tcp_states.h) */
enum tr_tcp_state {
	TR_ESTABLISHED = 1,
	TR_SYN_SENT,
	TR_SYN_RECV,
	TR_FIN_WAIT1,
	TR_FIN_WAIT2,
	TR_TIME_WAIT,
	TR_CLOSE,
	TR_CLOSE_WAIT,
	TR_LAST_ACK,
	TR_LISTEN,
	TR_CLOSING,
};

/* A connection from the peer to the service address, non-blocking fds. */
int tr_connect_pair(struct tr_topo *t, enum tr_ns server, int *peer_fd,
		    int *server_fd);

int tr_tcp_info(int fd, struct tcp_info *ti);
int tr_tcp_state(int fd);
const char *tr_state_str(int state);
int tr_inq(int fd);
int tr_outq(int fd);
int tr_outq_nsd(int fd);
int tr_meminfo(int fd, uint32_t mem[SK_MEMINFO_VARS]);
int64_t tr_drops(int fd);
int tr_sock_error(int fd);
long tr_snmp_tcp(int ns, const char *field);

void tr_fill(void *buf, size_t len, uint32_t seed);
ssize_t tr_send_all(int fd, const void *buf, size_t len, int timeout_ms);
ssize_t tr_recv_all(int fd, void *buf, size_t len, int timeout_ms);
int tr_recv_eof(int fd, int timeout_ms);
/* Receive @len bytes and compare them with @expect; 0 if identical. */
int tr_expect_data(int fd, const void *expect, size_t len, int timeout_ms);
/* Bounded waits for SIOCOUTQ, SIOCINQ or tcpi_state to reach a value */
int tr_wait_outq(int fd, int bytes, int timeout_ms);
int tr_wait_inq(int fd, int bytes, int timeout_ms);
int tr_wait_state(int fd, int state, int timeout_ms);

/* ---- repair.c --------------------------------------------------------- */

struct tr_dump {
	int family;
	struct sockaddr_storage self;
	struct sockaddr_storage peer;
	uint8_t state;			/* tcpi_state */
	uint8_t options;		/* TCPI_OPT_* */
	uint8_t snd_wscale;
	uint8_t rcv_wscale;
	uint32_t mss;			/* TCP_MAXSEG */
	uint32_t tsval;			/* TCP_TIMESTAMP */
	uint32_t snd_seq;		/* TCP_QUEUE_SEQ, send queue: write_seq */
	uint32_t rcv_seq;		/* TCP_QUEUE_SEQ, receive queue: rcv_nxt */
	uint32_t sndq_len;		/* SIOCOUTQ: unacked and unsent bytes */
	uint32_t unsent_len;		/* SIOCOUTQNSD: never sent */
	uint32_t rcvq_len;		/* SIOCINQ */
	char *sndq;
	char *rcvq;
	struct tcp_repair_window wnd;
	int sndbuf;
	int rcvbuf;
	/*
	 * Our FIN is queued and not acknowledged (FIN_WAIT1, CLOSING,
	 * LAST_ACK): it counts in snd_seq and sndq_len, and in unsent_len if
	 * it never left, but it is not in sndq.
	 */
	bool fin_queued;
};

static inline uint32_t tr_dump_snd_una(const struct tr_dump *d)
{
	return d->snd_seq - d->sndq_len;
}

/* Data bytes in sndq, and the part of them that was never sent */
static inline uint32_t tr_dump_sndq_data(const struct tr_dump *d)
{
	return d->sndq_len - d->fin_queued;
}

static inline uint32_t tr_dump_unsent_data(const struct tr_dump *d)
{
	/* The FIN is last in the queue: if anything is unsent, it is too */
	return d->unsent_len && d->fin_queued ? d->unsent_len - 1 :
						d->unsent_len;
}

static inline uint32_t tr_dump_snd_nxt(const struct tr_dump *d)
{
	return d->snd_seq - d->unsent_len;
}

int tr_repair(int fd, int mode);
int tr_repair_queue(int fd, int queue);
int tr_queue_seq(int fd, int queue, uint32_t *seq);
int tr_window_get(int fd, struct tcp_repair_window *w);

/* Turns repair on and reads everything a restore needs. */
int tr_dump(int fd, struct tr_dump *d);
/*
 * The same for a socket getpeername() refuses (SYN_SENT, CLOSE): @peer is
 * the address it is connected to, used when getpeername() says ENOTCONN.
 */
int tr_dump_peer(int fd, const struct sockaddr_storage *peer,
		 struct tr_dump *d);
/*
 * One pass, as a migration tool does it: a socket that changed while it was
 * dumped (a socket in repair mode that still receives) sets *@changed
 * instead of failing, and the image is the one first read.
 */
int tr_dump_once(int fd, struct tr_dump *d, bool *changed);
void tr_dump_free(struct tr_dump *d);

/*
 * Restore in @ns, in the freeze-friendly order: socket, repair on, queue
 * sequences, TCP_TIMESTAMP, bind, connect, options, sent data and receive
 * queue. Returns the socket, still in repair, window not set; the unsent
 * bytes are left for tr_restore_unsent() once repair is off.
 */
int tr_restore_sock(int ns, const struct tr_dump *d);
int tr_restore_window(int fd, const struct tr_dump *d);
int tr_restore_unsent(int fd, const struct tr_dump *d);
/*
 * The unsent bytes written in repair mode with the send queue selected:
 * recorded as sent, so that a FIN queued after them in the same repair
 * period follows them. The peer gets them by retransmission.
 */
int tr_restore_unsent_repair(int fd, const struct tr_dump *d);
/*
 * SYN_SENT: repair on, bind, the initial sequence number, repair off, a
 * real (non-blocking) connect() and repair on again. Returns the socket,
 * in repair mode, its SYN on the wire.
 */
int tr_restore_syn_sent(int ns, const struct tr_dump *d);
/* All of it: restore_sock, window, repair off with @off_mode, unsent. */
int tr_restore(int ns, const struct tr_dump *d, int off_mode);

/* ---- inject.c --------------------------------------------------------- */

#define TR_FIN	0x01
#define TR_SYN	0x02
#define TR_RST	0x04
#define TR_PSH	0x08
#define TR_ACK	0x10
#define TR_URG	0x20

struct tr_seg {
	uint32_t seq;
	uint32_t ack;
	uint16_t win;			/* raw field, already scaled down */
	uint16_t urg;
	uint8_t flags;
	uint8_t res;			/* the 4 reserved bits before flags */
	bool bad_csum;
	const void *opts;		/* options, TR_OPT_MAX bytes at most, */
	size_t optlen;			/* a multiple of 4 */
	const void *data;
	size_t len;
};

#define TR_OPT_MAX	40

/*
 * Send @seg from @src to @dst (ports taken from the addresses) with a raw
 * socket created in @ns. @src need not be local: the socket is transparent.
 */
int tr_inject(int ns, const struct sockaddr_storage *src,
	      const struct sockaddr_storage *dst, const struct tr_seg *seg);

/* ---- trace.c ---------------------------------------------------------- */

struct tr_trace {
	char dir[128];			/* the instance, empty if none */
	int reason;			/* enum value of SOCKET_REPAIR, or -1 */
};

/* 0 when the instance records skb:kfree_skb, -errno otherwise */
int tr_trace_start(struct tr_trace *tr);
/* Lines reporting "reason: SOCKET_REPAIR" so far, or -errno */
long tr_trace_count(struct tr_trace *tr);
void tr_trace_stop(struct tr_trace *tr);

/* ---- migrate.c -------------------------------------------------------- */

/*
 * struct tr_topo plus a guest namespace joined to origin and to target.
 * A relay's two addresses, the service address (peer side) and its own on
 * the guest side, move together between origin and target: service_in
 * says where they are.
 */
enum tr_guest_host {
	TR_RELAY,	/* the relay's guest side: 198.51.100.1, 2001:db8:1::1 */
	TR_GUEST,	/* the guest: 198.51.100.100, 2001:db8:1::100 */
};

struct tr_mig_topo {
	struct tr_topo topo;
	int guest;			/* the guest's namespace */
};

void tr_guest_addr(int family, enum tr_guest_host host, uint16_t port,
		   struct sockaddr_storage *ss);
int tr_mig_topo_init(struct tr_mig_topo *m, int family);
void tr_mig_topo_fini(struct tr_mig_topo *m);
/* Where the relay's addresses go next: the other of origin and target */
enum tr_ns tr_mig_topo_other(const struct tr_mig_topo *m);
/* The addresses leave their host for the other one */
int tr_mig_topo_move(struct tr_mig_topo *m);
/* The peer and the guest route them to their new host */
int tr_mig_topo_switch(struct tr_mig_topo *m);

/* ---- relay.c ---------------------------------------------------------- */

#define TR_RELAY_CONNS	8

enum tr_leg {
	TR_LEG_PEER,			/* accepted from the peer */
	TR_LEG_GUEST,			/* connected to the guest */
	TR_LEGS,
};

struct tr_relay_buf {
	char *data;
	size_t head, tail, size;
};

struct tr_relay_conn {
	int fd[TR_LEGS];
	struct tr_relay_buf buf[TR_LEGS];	/* read from the leg */
	uint64_t bytes[TR_LEGS];	/* read from the leg */
	uint64_t mark[TR_LEGS];		/* bytes[] at the last migration */
	bool eof[TR_LEGS];
	bool shut[TR_LEGS];		/* EOF passed on to the other leg */
	bool dead[TR_LEGS];		/* reset: closed, data for it dropped */
	bool connecting;		/* guest leg not connected yet */
	bool done;
};

struct tr_relay {
	struct tr_mig_topo *m;
	int lfd;
	uint16_t guest_port;
	struct tr_relay_conn conn[TR_RELAY_CONNS];
	int nconn;
	uint64_t total;			/* bytes read, all legs */
	int64_t progress_ms;		/* when a byte was last read */
	int migrations;			/* completed */
	int exposed;			/* windows the stream reached an original in */
	int unexposed;			/* windows it did not */
	uint64_t acked_bytes;		/* acknowledged by originals in repair */
	int dumps_changed;		/* sockets that moved while dumped */
	int resets;
	char reason[16];		/* of the first failure, "" if none */
	char error[192];
};

struct pollfd;

/* Listen on the service address, port @port; relay to the guest's @gport */
int tr_relay_start(struct tr_relay *r, struct tr_mig_topo *m, uint16_t port,
		   uint16_t gport);
/*
 * One round: wait up to @timeout_ms for the relay's sockets or the
 * caller's @extra (up to 8, revents filled in), then move what can be
 * moved. Failures are recorded in reason/error, not returned.
 */
int tr_relay_poll(struct tr_relay *r, struct pollfd *extra, int nextra,
		  int timeout_ms);
/* Move every connection to the other host; 0 or -errno, error set */
int tr_relay_migrate(struct tr_relay *r);
/* What each leg's socket says, for a diagnosis */
void tr_relay_log_state(const struct tr_relay *r);
/* Abort the connections, close everything */
void tr_relay_stop(struct tr_relay *r);

#endif /* TCP_REPAIR_SELFTEST_H */
