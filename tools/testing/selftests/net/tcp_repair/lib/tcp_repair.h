/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The library of the TCP_REPAIR selftests (and of the benchmarks that
 * measure the same operations), one file per concern:
 *
 * utils.c   diagnostics, time, bounded polls, socket option wrappers
 * netns.c   anonymous network namespaces; code and programs run in them
 * netlink.c rtnetlink: veths, links, addresses, routes, neighbours, events
 * addr.c    socket addresses: the tests' hosts, builders, printing
 * topo.c    the namespaces of a test joined by veths; migration steps
 * proc.c    /proc/net: MIB counters by their nstat names, the TCP table
 * sock.c    connections, socket state, bounded waits, byte-exact data
 * repair.c  dump of a TCP socket in repair mode, and its restore
 * inject.c  hand-made TCP segments sent from a raw socket
 * trace.c   counting skb:kfree_skb events in a private ftrace instance
 * env.c     what the fixtures share: a topology, a connected pair, a trace
 *           instance, the reasons to skip, and the migration recipe
 * snap.c    what a frozen socket must keep, and what reached it
 * relay.c   a relay between peer and guest that migrates under load
 *
 * Functions return 0 (or a file descriptor, or a value) on success and
 * -errno on failure; those doing more than one system call say why first.
 * The network is configured with rtnetlink: one request costs
 * microseconds, where one ip(8) process costs seconds under emulation.
 * The comments give the ip(8) command each request stands for.
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

/*
 * Format checks: the __printf() of kselftest.h, where there is one (not in
 * 6.1). The benchmarks build the library outside a kernel tree.
 */
#if __has_include("../../../kselftest.h")
#include "../../../kselftest.h"
#endif
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
/*
 * rto_min of every route of the topologies: a retransmission after a
 * loss the test made comes after 20 ms rather than 200 (and 400, 800...)
 */
#define TR_RTO_MIN_MS		20

/* ---- utils.c ---------------------------------------------------------- */

/* "# <message>" on stderr, as TH_LOG() writes */
void tr_log(const char *fmt, ...) __printf(1, 2);
int64_t tr_now_ms(void);
/* Polling interval of the bounded waits that have no event to wait for */
void tr_msleep(int ms);
/* 0 once @events are pending on @fd, -ETIMEDOUT at @deadline (tr_now_ms) */
int tr_poll(int fd, short events, int64_t deadline);

/* Integer socket options: -errno, quiet (for tests of the errors) */
int tr_sockopt_set(int fd, int level, int name, int val);
/* The value, or -errno; quiet */
int tr_sockopt_get(int fd, int level, int name);
/* The same, the reason logged as @what */
int tr_setsockopt(int fd, int level, int name, int val, const char *what);
int tr_getsockopt(int fd, int level, int name, int *val, const char *what);

/* ---- netns.c ---------------------------------------------------------- */

/*
 * Namespaces are never named: the test keeps their file descriptors, so
 * they (and the veths inside) are freed with the last reference, even when
 * the harness kills the test. @ns -1 stands for the caller's namespace.
 */
int tr_ns_new(void);
/* The namespace at @path (/run/netns/NAME, /proc/PID/ns/net) */
int tr_ns_open(const char *path);
/* The calling process moves to a new namespace with lo up */
int tr_ns_unshare(void);
int tr_ns_run(int ns, int (*fn)(void *), void *arg);
/* A socket lives in the namespace it was created in, wherever we go next */
int tr_ns_socket(int ns, int domain, int type, int protocol);
/* A program run in @ns, killed with its parent; its pid or -errno */
pid_t tr_ns_spawn(int ns, char *const argv[], int out, int err);
/* SIGKILL and reap the children in @pid (those > 0), set to -1 */
void tr_kill_all(pid_t *pid, int n);

/* ---- netlink.c -------------------------------------------------------- */

/* A NETLINK_ROUTE socket in @ns, for the requests below */
int tr_nl_open(int ns);

enum tr_nl_cmd {
	TR_NL_ADD,			/* fails if it exists */
	TR_NL_REPLACE,			/* creates or replaces */
	TR_NL_DEL,
};

/*
 * ip link add NAME address MAC type veth peer name PEER address PEER_MAC
 *	netns PEER_NS
 * A NULL MAC lets the kernel choose one; @peer_ns -1: the same namespace.
 */
int tr_nl_veth(int nl, const char *name, const char *mac, const char *peer,
	       const char *peer_mac, int peer_ns);
/* ip link del NAME */
int tr_nl_link_del(int nl, const char *name);
/* ip link set dev NAME addrgenmode none; ip link set dev NAME up */
int tr_nl_link_up(int nl, const char *name);
/*
 * Until link-watch has marked NAME in @ns running (IFF_RUNNING, operstate
 * up) and activated its qdisc: a new veth drops what it sends before that.
 * An event wait: the notification follows the activation.
 */
int tr_nl_link_wait(int ns, const char *name, int timeout_ms);
/* ip addr add|del ADDR/PLEN dev NAME [nodad] (IPv6: always nodad) */
int tr_nl_addr(int nl, enum tr_nl_cmd cmd, const struct sockaddr_storage *a,
	       int plen, const char *dev);
/*
 * ip route add|replace|del [TYPE] DST/PLEN [dev DEV]: @type RTN_UNICAST
 * (a device route, scope link), RTN_BLACKHOLE (no device)...
 */
int tr_nl_route(int nl, enum tr_nl_cmd cmd, int type,
		const struct sockaddr_storage *dst, int plen, const char *dev);
/*
 * ip route add|replace DST/PLEN dev DEV rto_min MS: a unicast device route
 * whose sockets retransmit after @rto_min_ms at least, rather than 200 ms
 * (the metric is locked, as ip(8) locks it; only then does TCP use it)
 */
int tr_nl_route_rto(int nl, enum tr_nl_cmd cmd,
		    const struct sockaddr_storage *dst, int plen,
		    const char *dev, int rto_min_ms);
/* ip tcp_metrics flush all, in @ns */
int tr_nl_tcp_metrics_flush(int ns);
/* ip neigh replace ADDR lladdr MAC dev DEV nud permanent */
int tr_nl_neigh(int nl, const struct sockaddr_storage *a, const char *mac,
		const char *dev);

/* ---- addr.c ----------------------------------------------------------- */

/*
 * The tests' hosts. The service address is the one that migrates; the
 * peer's address lives in the peer. With a guest (TR_TOPO_GUEST), the
 * relay's own address on the guest side migrates with the service
 * address, and the guest's server has the backend address.
 */
enum tr_host {
	TR_SERVICE,	/* 192.0.2.1, 2001:db8::1 */
	TR_CLIENT,	/* 192.0.2.100, 2001:db8::100 */
	TR_RELAY,	/* 198.51.100.1, 2001:db8:1::1 */
	TR_BACKEND,	/* 198.51.100.100, 2001:db8:1::100 */
	TR_HOSTS,
};

/* A sockaddr_in or sockaddr_in6 from an address string and a port */
void tr_sockaddr(int family, const char *addr, uint16_t port,
		 struct sockaddr_storage *ss);
void tr_addr(int family, enum tr_host host, uint16_t port,
	     struct sockaddr_storage *ss);
/* The loopback address, 127.0.0.1 or ::1 */
void tr_addr_loopback(int family, uint16_t port, struct sockaddr_storage *ss);
/* ::ffff:a.b.c.d for an IPv4 address, anything else as it is */
void tr_addr_mapped(struct sockaddr_storage *ss);
socklen_t tr_addr_len(const struct sockaddr_storage *ss);
uint16_t tr_addr_port(const struct sockaddr_storage *ss);
int tr_addr_plen(int family);		/* 32 or 128: a host */
const char *tr_addr_str(const struct sockaddr_storage *ss);

/* ---- topo.c ----------------------------------------------------------- */

/*
 * peer <-veth-> origin and peer <-veth-> target; with TR_TOPO_GUEST,
 * origin <-veth-> guest and target <-veth-> guest too. The service
 * address (and the relay's) lives on the loopback of origin or target and
 * moves between them; the other hosts' addresses on their own loopback.
 * Routes are /32 (/128) device routes with permanent neighbour entries,
 * so no ARP or neighbour discovery ever runs, and rto_min TR_RTO_MIN_MS.
 * Target has closed a connection with the peer before the test starts: a
 * socket restored there starts with the RTO of a path it knows (its RTT
 * is cached in tcp_metrics), rather than 1 s (3 s) without an RTT sample.
 */
enum tr_ns {
	TR_PEER,
	TR_ORIGIN,
	TR_TARGET,
	TR_GUEST,
	TR_NS_NR,
};

#define TR_TOPO_MAPPED	0x1	/* IPv4 topology, AF_INET6 sockets */
#define TR_TOPO_GUEST	0x2	/* the guest and its two veths */

struct tr_topo {
	int family;
	unsigned int flags;
	int ns[TR_NS_NR];		/* -1 where there is none */
	int nl[TR_NS_NR];		/* a rtnetlink socket in each */
	enum tr_ns service_in;		/* where the service address is */
};

int tr_topo_init(struct tr_topo *t, int family, unsigned int flags);
/*
 * The namespaces of a topology @made by tr_topo_init() earlier, used again
 * (for another test): @t has references and netlink sockets of its own,
 * addresses, routes and neighbour entries are back as tr_topo_init() set
 * them, no TCP socket of an earlier user is left that could still send
 * anything (-EBUSY if some are after TR_ARRIVAL_TIMEOUT), and TCP knows
 * of the paths what it knew then (tcp_metrics). @flags: whether sockets
 * are TR_TOPO_MAPPED.
 */
int tr_topo_reuse(struct tr_topo *t, const struct tr_topo *made,
		  unsigned int flags);
void tr_topo_fini(struct tr_topo *t);
/* What sockets on @t use: their family and the addresses they see */
int tr_topo_sock_family(const struct tr_topo *t);
void tr_topo_addr(const struct tr_topo *t, enum tr_host host, uint16_t port,
		  struct sockaddr_storage *ss);
/* Drop what @from sends to the other end of its path (bogus MAC) or not */
int tr_topo_block(struct tr_topo *t, enum tr_ns from, bool block);
/* Where the service address goes next: the other of origin and target */
enum tr_ns tr_topo_other(const struct tr_topo *t);
/*
 * A migration, in this order: isolate (optional), move, (restore), switch.
 * isolate: the service's home can no longer send anything to the peer,
 * so a socket closed there cannot make it answer with a RST.
 */
int tr_topo_isolate(struct tr_topo *t);
/* The migrating addresses leave their home for the other one */
int tr_topo_move(struct tr_topo *t);
/*
 * Or they go to the other one too, and their home keeps them: passt's
 * source host, where sockets left in repair mode keep their address and
 * their route to the peer
 */
int tr_topo_copy(struct tr_topo *t);
/* The peer (and the guest) route them to their new home */
int tr_topo_switch(struct tr_topo *t);

/* ---- proc.c ----------------------------------------------------------- */

/*
 * A counter of /proc/net/snmp, netstat or snmp6 in @ns, by the name nstat
 * prints: "TcpOutRsts", "TcpExtPAWSEstab", "IpOutNoRoutes",
 * "Ip6OutNoRoutes"... Its value, or -errno.
 */
long tr_mib(int ns, const char *name);
/*
 * TCP sockets of @ns that may still send something: any but TIME_WAIT
 * (and FIN_WAIT2 without a process, which is one). Their number, or -errno.
 */
int tr_tcp_busy(int ns);
/* 1 if /proc/net/tcp or tcp6 of @ns has a socket on local @port in @state */
int tr_tcp_table_has(int ns, uint16_t port, int state);
/* Until it has one: 0, or -ETIMEDOUT */
int tr_tcp_table_wait(int ns, uint16_t port, int state, int timeout_ms);

/* ---- sock.c ----------------------------------------------------------- */

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

#define TR_NONBLOCK	0x1	/* both ends of a pair non-blocking */
#define TR_NODELAY	0x2	/* and without Nagle */

/* A listener on @addr in @ns, SO_REUSEADDR set to @reuse unless negative */
int tr_listen(int ns, const struct sockaddr_storage *addr, int reuse);
/*
 * A new connection to listener @lfd from @ns (bound to @src unless NULL):
 * *@cfd the connecting end, *@afd the accepted one.
 */
int tr_connect_to(int lfd, int ns, const struct sockaddr_storage *src,
		  unsigned int flags, int *cfd, int *afd);

int tr_tcp_info(int fd, struct tcp_info *ti);
int tr_tcp_state(int fd);
const char *tr_state_str(int state);
int tr_inq(int fd);
int tr_outq(int fd);
int tr_outq_nsd(int fd);
int tr_meminfo(int fd, uint32_t mem[SK_MEMINFO_VARS]);
int64_t tr_drops(int fd);
int tr_sock_error(int fd);
int tr_local_port(int fd);

void tr_fill(void *buf, size_t len, uint32_t seed);
ssize_t tr_send_all(int fd, const void *buf, size_t len, int timeout_ms);
ssize_t tr_recv_all(int fd, void *buf, size_t len, int timeout_ms);
int tr_recv_eof(int fd, int timeout_ms);
/* Receive @len bytes and compare them with @expect; 0 if identical. */
int tr_expect_data(int fd, const void *expect, size_t len, int timeout_ms);
/* @len bytes of tr_fill(@seed) from @from arrive intact on @to */
int tr_xfer(int from, int to, size_t len, uint32_t seed);
/* The same both ways (@seed, @seed + 1), then nothing left in flight */
int tr_exchange(int a, int b, size_t len, uint32_t seed);
/* Bounded waits for SIOCOUTQ, SIOCINQ, tcpi_state or tcpi_ca_state */
int tr_wait_outq(int fd, int bytes, int timeout_ms);
int tr_wait_inq(int fd, int bytes, int timeout_ms);
int tr_wait_state(int fd, int state, int timeout_ms);
int tr_wait_ca_state(int fd, int ca_state, int timeout_ms);
/* A FIN_WAIT2, LAST_ACK... ends: CLOSE or TIME_WAIT */
int tr_wait_closed(int fd, int timeout_ms);

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
	bool reuseaddr;			/* SO_REUSEADDR before repair mode */
	bool passt;			/* restore in passt's order (below) */
	/*
	 * Our FIN is queued and not acknowledged (FIN_WAIT1, CLOSING,
	 * LAST_ACK): it counts in snd_seq and sndq_len, and in unsent_len if
	 * it never left, but it is not in sndq.
	 */
	bool fin_queued;
};

/* snd_una; data bytes in sndq, and the part of them never sent */
uint32_t tr_dump_snd_una(const struct tr_dump *d);
uint32_t tr_dump_sndq_data(const struct tr_dump *d);
uint32_t tr_dump_unsent_data(const struct tr_dump *d);

int tr_repair(int fd, int mode);
int tr_repair_queue(int fd, int queue);
int tr_queue_seq(int fd, int queue, uint32_t *seq);
int tr_window_get(int fd, struct tcp_repair_window *w);

/*
 * The dump, in passt's order (tcp_flow_migrate_source_ext()): TCP_INFO,
 * TCP_MAXSEG, TCP_TIMESTAMP, TCP_REPAIR_WINDOW, the send queue and its
 * sequence, the receive queue and its sequence, each read once; then the
 * sequences and queue lengths are read again to tell whether the socket
 * moved meanwhile. @fd must be in repair mode already: a migration turns
 * it on for every socket first. @peer, unless NULL, is the address a
 * socket getpeername() refuses (SYN_SENT, CLOSE) is connected to.
 *
 * A socket that moved sets *@changed, the image being the one first read;
 * with @changed NULL, it fails the dump with -EAGAIN.
 */
int tr_dump_frozen(int fd, const struct sockaddr_storage *peer,
		   struct tr_dump *d, bool *changed);
/* Repair on, then the above: the socket stays in repair mode */
int tr_dump(int fd, struct tr_dump *d);
int tr_dump_peer(int fd, const struct sockaddr_storage *peer,
		 struct tr_dump *d);
void tr_dump_free(struct tr_dump *d);

/*
 * Restore in @ns: socket, buffers, SO_REUSEADDR (the dumped value, or 1
 * as passt sets it), repair on, bind, TCP_TIMESTAMP (before connect(): no
 * segment ever carries an unshifted TSval), queue sequences, connect,
 * then TCP_REPAIR_OPTIONS and the queues (the sent part of the send
 * queue, the receive queue), or with @d->passt, the queues the other way
 * round and the options after them, which is passt's order
 * (tcp_flow_repair_socket(), tcp_flow_migrate_target_ext()). Returns the
 * socket, still in repair, window not set; the unsent bytes are left for
 * tr_restore_unsent() once repair is off.
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
/* The same in two steps, for many segments: the raw socket, bound to @src */
int tr_inject_open(int ns, const struct sockaddr_storage *src);
/* @seg from @src to @dst through raw socket @fd, bound to @src */
int tr_inject_send(int fd, const struct sockaddr_storage *src,
		   const struct sockaddr_storage *dst,
		   const struct tr_seg *seg);
/* The same, sent again while it finds no route (a new IPv6 address) */
int tr_inject_routed(int ns, const struct sockaddr_storage *src,
		     const struct sockaddr_storage *dst,
		     const struct tr_seg *seg);
/*
 * From @ns to @local, the ICMP(v6) error saying that the segment @seq of
 * the connection @local -> @remote was too big for an MTU of @mtu
 */
int tr_inject_too_big(int ns, const struct sockaddr_storage *local,
		      const struct sockaddr_storage *remote, uint32_t seq,
		      uint32_t mtu);

/* ---- trace.c ---------------------------------------------------------- */

struct tr_trace {
	char dir[128];			/* the instance, empty if none */
	int reason;			/* enum value of SOCKET_REPAIR, or -1 */
};

/* Where tracefs may be: an instance of process PID is tcp_repair.PID */
extern const char *const tr_tracefs_roots[2];
#define TR_TRACE_INSTANCE	"tcp_repair."

/* 0 when the instance records skb:kfree_skb, -errno otherwise */
int tr_trace_start(struct tr_trace *tr);
/* Lines reporting "reason: SOCKET_REPAIR" so far, or -errno */
long tr_trace_count(const struct tr_trace *tr);
void tr_trace_stop(struct tr_trace *tr);

/* ---- env.c ------------------------------------------------------------ */

/* What a fixture of the single-connection tests holds */
struct tr_env {
	struct tr_topo topo;
	struct tr_trace trace;
	bool tracing;
	int peer;			/* the peer's end */
	int origin;			/* the service's end, in origin */
	int target;			/* its restored copy, in target */
};

#define TR_ENV_PAIR	0x100	/* connect peer and origin */
#define TR_ENV_TRACE	0x200	/* a trace instance, if tracefs allows */

/*
 * @flags: TR_TOPO_* and TR_ENV_*; everything is undone on failure. The
 * topology is the one tr_env_share() made for @family, if any and if
 * nothing of an earlier test is still active in it, reset; otherwise a
 * new one.
 */
int tr_env_init(struct tr_env *e, int family, unsigned int flags);
/*
 * A topology of @family (and TR_TOPO_GUEST in @flags) for all the tests
 * of a program, which they use one after the other (tr_env_init()): made
 * before the harness forks them, from a constructor. Making three
 * namespaces and two veths for each test took most of a test's time
 * under emulation, and more on debug kernels. Its namespaces go with the
 * program.
 */
int tr_env_share(int family, unsigned int flags);
void tr_env_fini(struct tr_env *e);
/* The peer connects to the service address in origin (TR_ENV_PAIR) */
int tr_env_connect(struct tr_env *e);
/* Why a setup that failed with @err is a SKIP rather than a FAIL, or NULL */
const char *tr_skip_reason(int err);

/*
 * The migration recipe without a network lock, in three steps:
 * leave:  origin can no longer reach the peer, the original is closed
 *         (silently: it is in repair mode), the service address moves;
 * (the caller restores in target, in whatever order it tests);
 * switch: the peer reaches the service address through target.
 * tr_env_migrate() does all three with tr_restore(@off_mode).
 */
int tr_env_close_origin(struct tr_env *e);
int tr_env_leave(struct tr_env *e);
int tr_env_switch(struct tr_env *e);
int tr_env_migrate(struct tr_env *e, const struct tr_dump *d, int off_mode);

/* ---- snap.c ----------------------------------------------------------- */

/* What must not change while a socket is frozen; @fd in repair mode */
struct tr_snap {
	int state;
	uint32_t rcv_seq;		/* rcv_nxt */
	uint32_t snd_seq;		/* write_seq */
	int inq;
	int outq;
	int nsd;
	struct tcp_repair_window wnd;
	uint32_t mem[SK_MEMINFO_VARS];
	uint32_t ctl_out;		/* segments sent without data */
};

int tr_snap_take(int fd, struct tr_snap *s);
/* The fields that differ, each logged; 0 if none */
int tr_snap_diff(const struct tr_snap *a, const struct tr_snap *b);

struct tr_counts {
	int64_t segs;		/* the sender's tcpi_segs_out, -1 if none */
	int64_t drops;		/* the frozen socket's SK_MEMINFO_DROPS */
	long trace;		/* SOCKET_REPAIR events, -1 without tracefs */
};

/* @sender -1: none to count */
int tr_counts_read(const struct tr_env *e, int frozen, int sender,
		   struct tr_counts *c);
/* Read until two readings 30 ms apart agree: nothing is in flight */
int tr_counts_settle(const struct tr_env *e, int frozen, int sender,
		     struct tr_counts *c);
/* Until what was sent to @frozen got there (dropped, or acted upon) */
int tr_wait_arrival(int frozen, const struct tr_snap *s0, int64_t drops0,
		    int sender, int sender_outq, int timeout_ms);

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

/* An original kept in repair mode after its migration, as passt does */
struct tr_relay_stale {
	int fd;
	enum tr_ns ns;
};

struct tr_relay {
	struct tr_topo *t;
	int lfd;
	uint16_t guest_port;
	struct tr_relay_conn conn[TR_RELAY_CONNS];
	int nconn;
	struct tr_relay_stale stale[TR_RELAY_CONNS * TR_LEGS];
	int nstale;
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
int tr_relay_start(struct tr_relay *r, struct tr_topo *t, uint16_t port,
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
/* Abort the connections, close everything, the kept originals too */
void tr_relay_stop(struct tr_relay *r);

/*
 * The verdict of a run under migrations: the first reason it failed for
 * (stall, reset, byte mismatch, timeout, migration...), if any.
 */
struct tr_verdict {
	char reason[16];
	char detail[256];
};

void tr_verdict_set(struct tr_verdict *v, const char *reason,
		    const char *fmt, ...) __printf(3, 4);
/* The relay's own failure, if it had one */
void tr_relay_verdict(const struct tr_relay *r, struct tr_verdict *v);
/*
 * Every one of @want migrations done, each with the stream reaching the
 * frozen original (otherwise the window was not exercised), and every
 * image consistent.
 */
void tr_relay_check(const struct tr_relay *r, int want, struct tr_verdict *v);
/*
 * How long nothing may move before the stream counts as stuck:
 * TR_MIG_STALL_MS, or once originals acknowledged bytes in repair mode
 * (bytes in no image, which their senders will not send again: the copies
 * wait for them forever), TR_MIG_LOSS_STALL_MS.
 */
int tr_relay_stall_ms(const struct tr_relay *r);
/* A migration is due each time another 1/(@want + 2) of @total went by */
bool tr_relay_due(const struct tr_relay *r, int want, uint64_t done,
		  uint64_t total);
/* The counts of the run and the verdict, logged */
void tr_relay_report(const struct tr_relay *r, int want,
		     const struct tr_verdict *v);

/*
 * A run of migrate or migrate_iperf3: the topology with a guest, the relay
 * listening in origin on TR_MIG_PORT and relaying to the same port of the
 * guest. Senders are paced (TR_MIG_RATE, bytes/s): a dump takes
 * milliseconds under emulation, and a receive buffer of the relay must
 * still have room for what comes after it, or even a kernel that does not
 * freeze drops it, and nothing is tested.
 */
#define TR_MIG_PORT		5201
#define TR_MIG_RATE		(2 << 20)
#define TR_MIG_RUN_TIMEOUT	120000	/* ms, one transfer with migrations */
#define TR_MIG_STALL_MS		15000	/* nothing moved: the stream is stuck */
#define TR_MIG_LOSS_STALL_MS	2000	/* the same, bytes known lost */
#ifndef TR_MIGRATIONS
#define TR_MIGRATIONS		4	/* origin -> target -> origin ... */
#endif

struct tr_mig {
	struct tr_topo topo;
	struct tr_relay relay;
	bool relay_on;
};

int tr_mig_init(struct tr_mig *m, int family);
void tr_mig_fini(struct tr_mig *m);

#endif /* TCP_REPAIR_SELFTEST_H */
