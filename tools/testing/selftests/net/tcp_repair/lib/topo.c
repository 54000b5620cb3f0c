// SPDX-License-Identifier: GPL-2.0
/*
 * The namespaces of a test joined by veth pairs:
 *
 *   peer --p-o/o-p-- origin [--o-g/g-o-- guest]
 *   peer --p-t/t-p-- target [--t-g/g-t-- guest]
 *
 * The service address (and with a guest, the relay's address on the guest
 * side) lives on the loopback of origin or target and moves between them;
 * the peer and the guest switch their /32 (/128) route to follow it. The
 * peer's and the guest's addresses live on their own loopback. Every
 * neighbour entry is permanent, on every path, from the start. No
 * link-local addresses: no DAD, router or MLD chatter. Every route has
 * rto_min TR_RTO_MIN_MS, and target has closed a first connection with
 * the peer (topo_warm()).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/rtnetlink.h>

#include "tcp_repair.h"

/* Locally administered MACs, fixed: each link is private to the test. */
#define MAC_PEER_O	"02:00:00:00:01:01"	/* p-o, peer's end to origin */
#define MAC_ORIGIN	"02:00:00:00:01:02"	/* o-p, origin's end */
#define MAC_PEER_T	"02:00:00:00:02:01"	/* p-t, peer's end to target */
#define MAC_TARGET	"02:00:00:00:02:02"	/* t-p, target's end */
#define MAC_GUEST_O	"02:00:00:00:03:01"	/* g-o, guest's end to origin */
#define MAC_ORIGIN_G	"02:00:00:00:03:02"	/* o-g, origin's end */
#define MAC_GUEST_T	"02:00:00:00:04:01"	/* g-t, guest's end to target */
#define MAC_TARGET_G	"02:00:00:00:04:02"	/* t-g, target's end */
#define MAC_NOWHERE	"02:00:00:00:00:99"	/* no interface has it */

/* A veth: the outer end (peer or guest) and its end in origin or target */
static const struct link {
	enum tr_ns outer, host;
	const char *name, *mac, *host_name, *host_mac;
} links[] = {
	{ TR_PEER, TR_ORIGIN, "p-o", MAC_PEER_O, "o-p", MAC_ORIGIN },
	{ TR_PEER, TR_TARGET, "p-t", MAC_PEER_T, "t-p", MAC_TARGET },
	{ TR_GUEST, TR_ORIGIN, "g-o", MAC_GUEST_O, "o-g", MAC_ORIGIN_G },
	{ TR_GUEST, TR_TARGET, "g-t", MAC_GUEST_T, "t-g", MAC_TARGET_G },
};

/* The address of each outer end, and the migrating address it talks to */
static const enum tr_host outer_host[TR_NS_NR] = {
	[TR_PEER] = TR_CLIENT, [TR_GUEST] = TR_BACKEND,
};

static const enum tr_host migrating[TR_NS_NR] = {
	[TR_PEER] = TR_SERVICE, [TR_GUEST] = TR_RELAY,
};

/* The links of @t: two, or four with a guest */
static unsigned int nlinks(const struct tr_topo *t)
{
	return t->flags & TR_TOPO_GUEST ? 4 : 2;
}

static const struct link *link_of(enum tr_ns outer, enum tr_ns host)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(links); i++)
		if (links[i].outer == outer && links[i].host == host)
			return &links[i];
	return NULL;
}

static void host_addr(const struct tr_topo *t, enum tr_host h,
		      struct sockaddr_storage *ss)
{
	tr_addr(t->family, h, 0, ss);
}

static int plen(const struct tr_topo *t)
{
	return tr_addr_plen(t->family);
}

/* ip addr add|del HOST/PLEN dev lo [nodad] in @ns */
static int lo_addr(struct tr_topo *t, enum tr_ns ns, enum tr_nl_cmd cmd,
		   enum tr_host h)
{
	struct sockaddr_storage a;

	host_addr(t, h, &a);
	return tr_nl_addr(t->nl[ns], cmd, &a, plen(t), "lo");
}

/* ip route add|replace HOST/PLEN dev DEV in @ns */
static int dev_route(struct tr_topo *t, enum tr_ns ns, enum tr_nl_cmd cmd,
		     enum tr_host h, const char *dev)
{
	struct sockaddr_storage a;

	host_addr(t, h, &a);
	return tr_nl_route_rto(t->nl[ns], cmd, &a, plen(t), dev,
			       TR_RTO_MIN_MS);
}

/* ip neigh replace HOST lladdr MAC dev DEV nud permanent in @ns */
static int neigh(struct tr_topo *t, enum tr_ns ns, enum tr_host h,
		 const char *mac, const char *dev)
{
	struct sockaddr_storage a;

	host_addr(t, h, &a);
	return tr_nl_neigh(t->nl[ns], &a, mac, dev);
}

struct route_args {
	const struct sockaddr_storage *src, *dst;
	int timeout_ms;
};

/*
 * One try: a UDP socket bound to @src and connected to @dst. bind() fails
 * while the address is missing (or tentative) and connect() while there
 * is no route. IPv6 installs the local route of a new address
 * asynchronously, after the address and its prefix route: until then
 * connect() finds a route to our own address, but what arrives for it is
 * dropped (IP_INNOROUTES), a SYN among them, which then waits for its
 * retransmission (1 s). So when @dst is @src, the socket connects to
 * itself and sends itself a datagram: only local delivery works once it
 * arrives.
 */
static int route_try(const struct sockaddr_storage *src,
		     const struct sockaddr_storage *dst, const char **what)
{
	struct sockaddr_storage self;
	socklen_t len = sizeof(self);
	bool loop = dst == src;
	char c = 0;
	int fd, err;

	*what = "socket";
	fd = socket(src->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	*what = "bind";
	err = bind(fd, (struct sockaddr *)src, tr_addr_len(src));
	if (!err && loop) {
		err = getsockname(fd, (struct sockaddr *)&self, &len);
		dst = &self;
	}
	if (!err) {
		*what = "connect";
		err = connect(fd, (struct sockaddr *)dst, tr_addr_len(dst));
	}
	err = err ? -errno : 0;
	if (!err && loop) {
		*what = "local delivery";
		err = send(fd, &c, 1, 0) == 1 ? 0 : -errno;
		err = err ?: tr_poll(fd, POLLIN, tr_now_ms() + 2);
		err = err ?: (recv(fd, &c, 1, 0) == 1 ? 0 : -errno);
	}
	close(fd);
	return err;
}

static int route_wait_fn(void *arg)
{
	struct route_args *a = arg;
	int64_t deadline = tr_now_ms() + a->timeout_ms;
	struct sockaddr_storage dst = *a->dst;
	const char *what = "socket";
	int err;

	((struct sockaddr_in *)&dst)->sin_port = htons(9);
	for (;;) {
		err = route_try(a->src, a->dst == a->src ? a->src : &dst,
				&what);
		if (!err)
			return 0;
		if (tr_now_ms() > deadline) {
			tr_log("no route from %s to %s after %d ms (%s: %s)",
			       tr_addr_str(a->src), tr_addr_str(a->dst),
			       a->timeout_ms, what, strerror(-err));
			return err;
		}
		tr_msleep(2);
	}
}

/* In @ns: the local route of @self's address, then the route to @other */
static int wait_routes(struct tr_topo *t, enum tr_ns ns, enum tr_host self,
		       enum tr_host other)
{
	struct sockaddr_storage a, b;
	struct route_args ra = { &a, &a, TR_SETUP_TIMEOUT };
	int err;

	host_addr(t, self, &a);
	host_addr(t, other, &b);
	err = tr_ns_run(t->ns[ns], route_wait_fn, &ra);
	ra.dst = &b;
	return err ?: tr_ns_run(t->ns[ns], route_wait_fn, &ra);
}

/* The migrating addresses in @ns reach the peer (and the guest) */
static int wait_home(struct tr_topo *t, enum tr_ns ns)
{
	int err;

	err = wait_routes(t, ns, TR_SERVICE, TR_CLIENT);
	if (!err && t->flags & TR_TOPO_GUEST)
		err = wait_routes(t, ns, TR_RELAY, TR_BACKEND);
	return err;
}

void tr_topo_fini(struct tr_topo *t)
{
	int i;

	for (i = 0; i < TR_NS_NR; i++) {
		if (t->nl[i] >= 0)
			close(t->nl[i]);
		if (t->ns[i] >= 0)
			close(t->ns[i]);
		t->nl[i] = -1;
		t->ns[i] = -1;
	}
}

/* The namespaces, a rtnetlink socket in each, the veths, all links up */
static int topo_links(struct tr_topo *t)
{
	const struct link *l;
	unsigned int i;
	int err = 0;

	for (i = 0; i < TR_NS_NR && !err; i++) {
		if (i == TR_GUEST && !(t->flags & TR_TOPO_GUEST))
			continue;
		t->ns[i] = tr_ns_new();
		if (t->ns[i] < 0)
			return t->ns[i];
		t->nl[i] = tr_nl_open(t->ns[i]);
		if (t->nl[i] < 0)
			return t->nl[i];
	}
	for (i = 0; i < nlinks(t) && !err; i++) {
		l = &links[i];
		err = tr_nl_veth(t->nl[l->outer], l->name, l->mac,
				 l->host_name, l->host_mac, t->ns[l->host]);
		err = err ?: tr_nl_link_up(t->nl[l->outer], l->name);
		err = err ?: tr_nl_link_up(t->nl[l->host], l->host_name);
	}
	return err;
}

/*
 * What origin and target need to reach the peer (and the guest): a device
 * route and a neighbour entry each way; origin has the migrating
 * addresses.
 */
static int topo_hosts(struct tr_topo *t)
{
	const struct link *l;
	unsigned int i;
	int err;

	err = lo_addr(t, TR_ORIGIN, TR_NL_ADD, TR_SERVICE);
	if (!err && t->flags & TR_TOPO_GUEST)
		err = lo_addr(t, TR_ORIGIN, TR_NL_ADD, TR_RELAY);
	for (i = 0; i < nlinks(t) && !err; i++) {
		l = &links[i];
		err = dev_route(t, l->host, TR_NL_ADD, outer_host[l->outer],
				l->host_name);
		err = err ?: neigh(t, l->host, outer_host[l->outer], l->mac,
				   l->host_name);
	}
	return err;
}

/*
 * The outer ends, once the links run: their own address, the route to the
 * migrating address through origin, a neighbour entry on both paths.
 */
static int topo_outer(struct tr_topo *t, enum tr_ns outer, enum tr_host self,
		      enum tr_host migrating)
{
	const struct link *o = link_of(outer, TR_ORIGIN);
	const struct link *tl = link_of(outer, TR_TARGET);
	int err;

	err = lo_addr(t, outer, TR_NL_ADD, self);
	err = err ?: dev_route(t, outer, TR_NL_ADD, migrating, o->name);
	err = err ?: neigh(t, outer, migrating, o->host_mac, o->name);
	err = err ?: neigh(t, outer, migrating, tl->host_mac, tl->name);
	return err ?: wait_routes(t, outer, self, migrating);
}

/*
 * Target has talked to the peer before (and to the guest, with one): a
 * connection from @outer's address @self to the migrating address @addr,
 * there for the time being, closed in order. Its RTT stays in target's
 * tcp_metrics, and a socket restored there later starts with the RTO of
 * that known path (tcp_init_metrics(): rto_min here), not the 1 s probe
 * timeout and 3 s RTO of a path without an RTT sample: TCP_REPAIR restores
 * no RTT. Routes and addresses are then as before.
 */
static int topo_warm(struct tr_topo *t, enum tr_ns outer, enum tr_host self,
		     enum tr_host addr)
{
	struct sockaddr_storage svc, cli;
	int lfd, c, a, err;

	tr_addr(t->family, addr, 0, &svc);
	tr_addr(t->family, self, 0, &cli);
	err = lo_addr(t, TR_TARGET, TR_NL_ADD, addr);
	err = err ?: wait_routes(t, TR_TARGET, addr, self);
	err = err ?: dev_route(t, outer, TR_NL_REPLACE, addr,
			       link_of(outer, TR_TARGET)->name);
	if (err)
		return err;
	lfd = tr_listen(t->ns[TR_TARGET], &svc, -1);
	if (lfd < 0)
		return lfd;
	err = tr_connect_to(lfd, t->ns[outer], &cli, 0, &c, &a);
	close(lfd);
	if (err)
		return err;
	/* The other end closes first: target's passes LAST_ACK, which saves */
	err = shutdown(c, SHUT_WR) ? -errno : 0;
	err = err ?: tr_recv_eof(a, TR_ARRIVAL_TIMEOUT);
	err = err ?: shutdown(a, SHUT_WR) ? -errno : 0;
	err = err ?: tr_wait_closed(a, TR_ARRIVAL_TIMEOUT);
	close(a);
	close(c);
	if (err) {
		tr_log("target's first connection to %s: %s",
		       tr_addr_str(&cli), strerror(-err));
		return err;
	}
	err = lo_addr(t, TR_TARGET, TR_NL_DEL, addr);
	return err ?: dev_route(t, outer, TR_NL_REPLACE, addr,
				link_of(outer, TR_ORIGIN)->name);
}

int tr_topo_init(struct tr_topo *t, int family, unsigned int flags)
{
	unsigned int i;
	int err;

	memset(t, 0, sizeof(*t));
	t->family = family;
	t->flags = flags;
	t->service_in = TR_ORIGIN;
	for (i = 0; i < TR_NS_NR; i++) {
		t->ns[i] = -1;
		t->nl[i] = -1;
	}
	err = topo_links(t);
	err = err ?: topo_hosts(t);
	for (i = 0; i < nlinks(t) && !err; i++) {
		err = tr_nl_link_wait(t->ns[links[i].outer], links[i].name,
				      TR_SETUP_TIMEOUT);
		err = err ?: tr_nl_link_wait(t->ns[links[i].host],
					     links[i].host_name,
					     TR_SETUP_TIMEOUT);
	}
	/* Only now: nothing is sent on a link before it runs */
	err = err ?: topo_outer(t, TR_PEER, TR_CLIENT, TR_SERVICE);
	if (!err && flags & TR_TOPO_GUEST)
		err = topo_outer(t, TR_GUEST, TR_BACKEND, TR_RELAY);
	err = err ?: wait_home(t, TR_ORIGIN);
	err = err ?: topo_warm(t, TR_PEER, TR_CLIENT, TR_SERVICE);
	if (!err && flags & TR_TOPO_GUEST)
		err = topo_warm(t, TR_GUEST, TR_BACKEND, TR_RELAY);
	if (err)
		tr_topo_fini(t);
	return err;
}

static int has_addr_fn(void *arg)
{
	const struct sockaddr_storage *a = arg;
	int fd, ret;

	fd = socket(a->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = !bind(fd, (const struct sockaddr *)a, tr_addr_len(a));
	close(fd);
	return ret;
}

/*
 * ip addr add|del HOST/PLEN dev lo in @ns, unless it is there already, or
 * gone already. (Replacing an IPv6 address that is there left it without
 * local delivery on 6.12.)
 */
static int lo_addr_set(struct tr_topo *t, enum tr_ns ns, enum tr_nl_cmd cmd,
		       enum tr_host h)
{
	struct sockaddr_storage a;
	int there;

	host_addr(t, h, &a);
	there = tr_ns_run(t->ns[ns], has_addr_fn, &a);
	if (there < 0)
		return there;
	if (there ? cmd == TR_NL_ADD : cmd == TR_NL_DEL)
		return 0;
	return lo_addr(t, ns, cmd, h);
}

/*
 * Back to what tr_topo_init() made: the migrating addresses in origin
 * only, every route and neighbour entry as it was first set (the tests
 * isolate, switch and block paths)
 */
static int topo_reset(struct tr_topo *t)
{
	const struct link *l;
	unsigned int i;
	int err = 0;

	for (i = 0; i < TR_NS_NR && !err; i++) {
		if (i != TR_PEER &&
		    (i != TR_GUEST || !(t->flags & TR_TOPO_GUEST)))
			continue;
		err = lo_addr_set(t, TR_TARGET, TR_NL_DEL, migrating[i]);
		err = err ?: lo_addr_set(t, TR_ORIGIN, TR_NL_ADD, migrating[i]);
		err = err ?: dev_route(t, i, TR_NL_REPLACE, migrating[i],
				       link_of(i, TR_ORIGIN)->name);
	}
	for (i = 0; i < nlinks(t) && !err; i++) {
		l = &links[i];
		err = dev_route(t, l->host, TR_NL_REPLACE, outer_host[l->outer],
				l->host_name);
		err = err ?: neigh(t, l->host, outer_host[l->outer], l->mac,
				   l->host_name);
		err = err ?: neigh(t, l->outer, migrating[l->outer],
				   l->host_mac, l->name);
	}
	t->service_in = TR_ORIGIN;
	return err ?: wait_home(t, TR_ORIGIN);
}

/* Until no TCP socket is left in @t but TIME_WAIT ones, which send nothing */
static int topo_quiet(struct tr_topo *t, int timeout_ms)
{
	int64_t deadline = tr_now_ms() + timeout_ms;
	int i, n, busy;

	for (;;) {
		for (i = 0, busy = 0; i < TR_NS_NR; i++) {
			if (t->ns[i] < 0)
				continue;
			n = tr_tcp_busy(t->ns[i]);
			if (n < 0)
				return n;
			busy += n;
		}
		if (!busy)
			return 0;
		if (tr_now_ms() > deadline) {
			tr_log("%d TCP sockets still active after %d ms",
			       busy, timeout_ms);
			return -EBUSY;
		}
		tr_msleep(2);
	}
}

int tr_topo_reuse(struct tr_topo *t, const struct tr_topo *made,
		  unsigned int flags)
{
	unsigned int i;
	int err = 0;

	memset(t, 0, sizeof(*t));
	t->family = made->family;
	t->flags = (made->flags & TR_TOPO_GUEST) | (flags & TR_TOPO_MAPPED);
	t->service_in = TR_ORIGIN;
	for (i = 0; i < TR_NS_NR; i++) {
		t->ns[i] = -1;
		t->nl[i] = -1;
	}
	for (i = 0; i < TR_NS_NR && !err; i++) {
		if (made->ns[i] < 0)
			continue;
		t->ns[i] = fcntl(made->ns[i], F_DUPFD_CLOEXEC, 0);
		err = t->ns[i] < 0 ? -errno : 0;
		if (!err) {
			t->nl[i] = tr_nl_open(t->ns[i]);
			err = t->nl[i] < 0 ? t->nl[i] : 0;
		}
	}
	err = err ?: topo_reset(t);
	err = err ?: topo_quiet(t, TR_ARRIVAL_TIMEOUT);
	/* What TCP learnt of the paths goes too; target learns it again */
	for (i = 0; i < TR_NS_NR && !err; i++)
		if (t->ns[i] >= 0)
			err = tr_nl_tcp_metrics_flush(t->ns[i]);
	err = err ?: topo_warm(t, TR_PEER, TR_CLIENT, TR_SERVICE);
	if (!err && t->flags & TR_TOPO_GUEST)
		err = topo_warm(t, TR_GUEST, TR_BACKEND, TR_RELAY);
	if (err)
		tr_topo_fini(t);
	return err;
}

int tr_topo_sock_family(const struct tr_topo *t)
{
	return t->flags & TR_TOPO_MAPPED ? AF_INET6 : t->family;
}

void tr_topo_addr(const struct tr_topo *t, enum tr_host h, uint16_t port,
		  struct sockaddr_storage *ss)
{
	tr_addr(t->family, h, port, ss);
	if (t->flags & TR_TOPO_MAPPED)
		tr_addr_mapped(ss);
}

/*
 * Make the path from @from towards the other end lose every packet: the
 * neighbour entry points at a MAC nobody has, the receiving veth sees an
 * OTHERHOST frame and IP drops it. The other direction is untouched.
 */
int tr_topo_block(struct tr_topo *t, enum tr_ns from, bool block)
{
	const struct link *l;

	switch (from) {
	case TR_PEER:
		l = link_of(TR_PEER, t->service_in);
		return neigh(t, TR_PEER, TR_SERVICE,
			     block ? MAC_NOWHERE : l->host_mac, l->name);
	case TR_ORIGIN:
	case TR_TARGET:
		l = link_of(TR_PEER, from);
		return neigh(t, from, TR_CLIENT, block ? MAC_NOWHERE : l->mac,
			     l->host_name);
	default:
		return -EINVAL;
	}
}

enum tr_ns tr_topo_other(const struct tr_topo *t)
{
	return t->service_in == TR_ORIGIN ? TR_TARGET : TR_ORIGIN;
}

/* ip route del CLIENT/PLEN dev o-p (or t-p), where the service is */
int tr_topo_isolate(struct tr_topo *t)
{
	const struct link *l = link_of(TR_PEER, t->service_in);
	struct sockaddr_storage a;

	host_addr(t, TR_CLIENT, &a);
	return tr_nl_route(t->nl[t->service_in], TR_NL_DEL, RTN_UNICAST, &a,
			   plen(t), l->host_name);
}

int tr_topo_copy(struct tr_topo *t)
{
	enum tr_ns to = tr_topo_other(t);
	int err;

	err = lo_addr(t, to, TR_NL_ADD, TR_SERVICE);
	if (!err && t->flags & TR_TOPO_GUEST)
		err = lo_addr(t, to, TR_NL_ADD, TR_RELAY);
	err = err ?: wait_home(t, to);
	if (!err)
		t->service_in = to;
	return err;
}

int tr_topo_move(struct tr_topo *t)
{
	enum tr_ns from = t->service_in;
	int err;

	err = lo_addr(t, from, TR_NL_DEL, TR_SERVICE);
	if (!err && t->flags & TR_TOPO_GUEST)
		err = lo_addr(t, from, TR_NL_DEL, TR_RELAY);
	return err ?: tr_topo_copy(t);
}

int tr_topo_switch(struct tr_topo *t)
{
	int err;

	err = dev_route(t, TR_PEER, TR_NL_REPLACE, TR_SERVICE,
			link_of(TR_PEER, t->service_in)->name);
	if (!err && t->flags & TR_TOPO_GUEST)
		err = dev_route(t, TR_GUEST, TR_NL_REPLACE, TR_RELAY,
				link_of(TR_GUEST, t->service_in)->name);
	return err;
}
