// SPDX-License-Identifier: GPL-2.0
/*
 * The topology of a relay migrating under load, on top of struct tr_topo:
 *
 *   peer --p-o/o-p-- origin --o-g/g-o-- guest
 *   peer --p-t/t-p-- target --t-g/g-t-- guest
 *
 * The relay (lib/relay.c) has two addresses, the service address the peer
 * connects to and its own address on the guest side. Both live on the
 * loopback of origin or target and move together, back and forth; the
 * peer and the guest switch their /32 (/128) route to follow them. Every
 * neighbour entry is permanent, on both paths, from the start.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "tcp_repair.h"

#define MAC_GUEST_O	"02:00:00:00:03:01"	/* g-o, guest's end to origin */
#define MAC_ORIGIN_G	"02:00:00:00:03:02"	/* o-g, origin's end */
#define MAC_GUEST_T	"02:00:00:00:04:01"	/* g-t, guest's end to target */
#define MAC_TARGET_G	"02:00:00:00:04:02"	/* t-g, target's end */

static const char *const guest_addr4[] = {
	[TR_RELAY]	= "198.51.100.1",
	[TR_GUEST]	= "198.51.100.100",
};

static const char *const guest_addr6[] = {
	[TR_RELAY]	= "2001:db8:1::1",
	[TR_GUEST]	= "2001:db8:1::100",
};

void tr_guest_addr(int family, enum tr_guest_host h, uint16_t port,
		   struct sockaddr_storage *ss)
{
	tr_sockaddr(family, family == AF_INET ? guest_addr4[h] :
						guest_addr6[h], port, ss);
}

static const char *gaddr(const struct tr_mig_topo *m, enum tr_guest_host h)
{
	return m->topo.family == AF_INET ? guest_addr4[h] : guest_addr6[h];
}

static int mplen(const struct tr_mig_topo *m)
{
	return m->topo.family == AF_INET ? 32 : 128;
}

static const char *mnodad(const struct tr_mig_topo *m)
{
	return m->topo.family == AF_INET6 ? " nodad" : "";
}

/*
 * A migration changes addresses and routes with rtnetlink, not ip(8): a
 * fork and exec per change costs seconds under emulation, and every
 * second the relay spends is one more retransmission backoff of the peers.
 */
struct nl_req {
	struct nlmsghdr nh;
	union {
		struct ifaddrmsg ifa;
		struct rtmsg rt;
	};
	char attrs[64];
};

static void nl_attr(struct nl_req *req, unsigned short type,
		    const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)req +
					       NLMSG_ALIGN(req->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	req->nh.nlmsg_len = NLMSG_ALIGN(req->nh.nlmsg_len) +
			    RTA_ALIGN(rta->rta_len);
}

struct ifindex_args {
	const char *name;
};

static int ifindex_fn(void *arg)
{
	struct ifindex_args *a = arg;
	unsigned int idx = if_nametoindex(a->name);

	return idx ? (int)idx : -errno;
}

static int ifindex(int ns, const char *name)
{
	struct ifindex_args a = { name };

	return tr_ns_run(ns, ifindex_fn, &a);
}

/* Send @req in @ns and wait for its acknowledgment */
static int nl_talk(int ns, struct nl_req *req, const char *what)
{
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
	} ack;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, err;
	ssize_t n;

	fd = tr_ns_socket(ns, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
			  NETLINK_ROUTE);
	if (fd < 0)
		return fd;
	req->nh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (sendto(fd, req, req->nh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	n = recv(fd, &ack, sizeof(ack), 0);
	if (n < 0)
		err = -errno;
	else if (n < (ssize_t)sizeof(ack) || ack.nh.nlmsg_type != NLMSG_ERROR)
		err = -EIO;
	else
		err = ack.err.error;
out:
	if (err)
		tr_log("rtnetlink, %s: %s", what, strerror(-err));
	close(fd);
	return err;
}

static void nl_addr_bytes(int family, const struct sockaddr_storage *ss,
			  const void **p, size_t *len)
{
	if (family == AF_INET) {
		*p = &((const struct sockaddr_in *)ss)->sin_addr;
		*len = 4;
	} else {
		*p = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		*len = 16;
	}
}

/* Add or remove @ss, a host address, on lo (ifindex 1) in @ns */
static int nl_addr(struct tr_mig_topo *m, int ns, bool add,
		   const struct sockaddr_storage *ss)
{
	int family = m->topo.family, idx;
	struct nl_req req = {};
	uint32_t flags = IFA_F_NODAD;
	const void *p;
	size_t len;

	idx = ifindex(ns, "lo");
	if (idx < 0)
		return idx;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.nh.nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	req.nh.nlmsg_flags = add ? NLM_F_CREATE | NLM_F_EXCL : 0;
	req.ifa.ifa_family = family;
	req.ifa.ifa_prefixlen = mplen(m);
	req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	req.ifa.ifa_index = idx;
	nl_addr_bytes(family, ss, &p, &len);
	nl_attr(&req, IFA_LOCAL, p, len);
	nl_attr(&req, IFA_ADDRESS, p, len);
	if (family == AF_INET6)
		nl_attr(&req, IFA_FLAGS, &flags, sizeof(flags));
	return nl_talk(ns, &req, add ? "adding an address" :
				       "removing an address");
}

/* The host route to @ss in @ns goes through @dev */
static int nl_route(struct tr_mig_topo *m, int ns,
		    const struct sockaddr_storage *ss, const char *dev)
{
	int family = m->topo.family, idx;
	struct nl_req req = {};
	const void *p;
	size_t len;

	idx = ifindex(ns, dev);
	if (idx < 0)
		return idx;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.rt));
	req.nh.nlmsg_type = RTM_NEWROUTE;
	req.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	req.rt.rtm_family = family;
	req.rt.rtm_dst_len = mplen(m);
	req.rt.rtm_table = RT_TABLE_MAIN;
	req.rt.rtm_protocol = RTPROT_BOOT;
	req.rt.rtm_scope = RT_SCOPE_LINK;
	req.rt.rtm_type = RTN_UNICAST;
	nl_addr_bytes(family, ss, &p, &len);
	nl_attr(&req, RTA_DST, p, len);
	nl_attr(&req, RTA_OIF, &idx, sizeof(idx));
	return nl_talk(ns, &req, "replacing a route");
}

/* The relay's addresses in @ns can reach the peer and the guest */
static int wait_relay_routes(struct tr_mig_topo *m, enum tr_ns ns)
{
	struct sockaddr_storage svc, cli, relay, guest;
	int fd = m->topo.ns[ns], err;

	tr_addr(m->topo.family, TR_SERVICE, 0, &svc);
	tr_addr(m->topo.family, TR_CLIENT, 0, &cli);
	tr_guest_addr(m->topo.family, TR_RELAY, 0, &relay);
	tr_guest_addr(m->topo.family, TR_GUEST, 0, &guest);
	err = tr_route_wait(fd, &svc, &cli, TR_SETUP_TIMEOUT);
	return err ?: tr_route_wait(fd, &relay, &guest, TR_SETUP_TIMEOUT);
}

void tr_mig_topo_fini(struct tr_mig_topo *m)
{
	if (m->guest >= 0)
		close(m->guest);
	m->guest = -1;
	tr_topo_fini(&m->topo);
}

/*
 * The guest's veth to @host: created by @guest's batch, configured on the
 * host's end by @hb. Both ends are up once the batches ran.
 */
static void guest_link(struct tr_mig_topo *m, struct tr_ipb *gb,
		       struct tr_ipb *hb, enum tr_ns host, const char *gname,
		       const char *gmac, const char *hname, const char *hmac)
{
	tr_ipb_add(gb,
		   "link add %s address %s type veth peer name %s address %s netns /proc/%d/fd/%d",
		   gname, gmac, hname, hmac, getpid(), m->topo.ns[host]);
	tr_ipb_add(gb, "link set dev %s addrgenmode none", gname);
	tr_ipb_add(gb, "link set dev %s up", gname);
	tr_ipb_add(hb, "link set dev %s addrgenmode none", hname);
	tr_ipb_add(hb, "link set dev %s up", hname);
	tr_ipb_add(hb, "route add %s/%d dev %s", gaddr(m, TR_GUEST), mplen(m),
		   hname);
	tr_ipb_add(hb, "neigh replace %s lladdr %s dev %s nud permanent",
		   gaddr(m, TR_GUEST), gmac, hname);
}

int tr_mig_topo_init(struct tr_mig_topo *m, int family)
{
	static const struct {
		bool guest;
		enum tr_ns host;
		const char *ifname;
	} ends[] = {
		{ true, 0, "g-o" }, { false, TR_ORIGIN, "o-g" },
		{ true, 0, "g-t" }, { false, TR_TARGET, "t-g" },
	};
	struct tr_ipb gb = {}, ob = {}, tb = {};
	struct sockaddr_storage relay, guest;
	const char *relay_str;
	unsigned int i;
	int err;

	m->guest = -1;
	err = tr_topo_init(&m->topo, family);
	if (err)
		return err;
	m->guest = tr_ns_new();
	if (m->guest < 0) {
		err = m->guest;
		goto fail;
	}
	relay_str = gaddr(m, TR_RELAY);
	guest_link(m, &gb, &ob, TR_ORIGIN, "g-o", MAC_GUEST_O, "o-g",
		   MAC_ORIGIN_G);
	guest_link(m, &gb, &tb, TR_TARGET, "g-t", MAC_GUEST_T, "t-g",
		   MAC_TARGET_G);
	tr_ipb_add(&ob, "addr add %s/%d dev lo%s", relay_str, mplen(m),
		   mnodad(m));
	err = tr_ip_batch(m->guest, &gb);
	err = err ?: tr_ip_batch(m->topo.ns[TR_ORIGIN], &ob);
	err = err ?: tr_ip_batch(m->topo.ns[TR_TARGET], &tb);
	for (i = 0; i < 4 && !err; i++)
		err = tr_link_wait_up(ends[i].guest ? m->guest :
				      m->topo.ns[ends[i].host],
				      ends[i].ifname, TR_SETUP_TIMEOUT);
	if (err)
		goto fail;

	/* last, as in tr_topo_init(): ip(8) waits for link-watch's RTNL */
	memset(&gb, 0, sizeof(gb));
	tr_ipb_add(&gb, "addr add %s/%d dev lo%s", gaddr(m, TR_GUEST),
		   mplen(m), mnodad(m));
	tr_ipb_add(&gb, "route add %s/%d dev g-o", relay_str, mplen(m));
	tr_ipb_add(&gb, "neigh replace %s lladdr %s dev g-o nud permanent",
		   relay_str, MAC_ORIGIN_G);
	tr_ipb_add(&gb, "neigh replace %s lladdr %s dev g-t nud permanent",
		   relay_str, MAC_TARGET_G);
	err = tr_ip_batch(m->guest, &gb);
	if (err)
		goto fail;
	tr_guest_addr(family, TR_RELAY, 0, &relay);
	tr_guest_addr(family, TR_GUEST, 0, &guest);
	err = tr_route_wait(m->guest, &guest, &guest, TR_SETUP_TIMEOUT);
	err = err ?: tr_route_wait(m->guest, &guest, &relay, TR_SETUP_TIMEOUT);
	err = err ?: wait_relay_routes(m, TR_ORIGIN);
	if (err)
		goto fail;
	return 0;

fail:
	tr_mig_topo_fini(m);
	return err;
}

enum tr_ns tr_mig_topo_other(const struct tr_mig_topo *m)
{
	return m->topo.service_in == TR_ORIGIN ? TR_TARGET : TR_ORIGIN;
}

int tr_mig_topo_move(struct tr_mig_topo *m)
{
	enum tr_ns from = m->topo.service_in, to = tr_mig_topo_other(m);
	struct sockaddr_storage svc, relay;
	int err;

	tr_addr(m->topo.family, TR_SERVICE, 0, &svc);
	tr_guest_addr(m->topo.family, TR_RELAY, 0, &relay);
	err = nl_addr(m, m->topo.ns[from], false, &svc);
	err = err ?: nl_addr(m, m->topo.ns[from], false, &relay);
	err = err ?: nl_addr(m, m->topo.ns[to], true, &svc);
	err = err ?: nl_addr(m, m->topo.ns[to], true, &relay);
	err = err ?: wait_relay_routes(m, to);
	if (!err)
		m->topo.service_in = to;
	return err;
}

int tr_mig_topo_switch(struct tr_mig_topo *m)
{
	bool there = m->topo.service_in == TR_TARGET;
	struct sockaddr_storage svc, relay;
	int err;

	tr_addr(m->topo.family, TR_SERVICE, 0, &svc);
	tr_guest_addr(m->topo.family, TR_RELAY, 0, &relay);
	err = nl_route(m, m->topo.ns[TR_PEER], &svc, there ? "p-t" : "p-o");
	return err ?: nl_route(m, m->guest, &relay, there ? "g-t" : "g-o");
}
