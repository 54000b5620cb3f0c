// SPDX-License-Identifier: GPL-2.0
/*
 * rtnetlink: veths, links, addresses, routes, neighbours, and waiting for
 * a link to come up; and the generic netlink family tcp_metrics. Each
 * request is acknowledged before it returns; the kernel's answer is the
 * errno. The header gives the ip(8) command each function stands for.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/tcp_metrics.h>
#include <linux/veth.h>

#include "tcp_repair.h"

#ifndef IN6_ADDR_GEN_MODE_NONE
#define IN6_ADDR_GEN_MODE_NONE	1
#endif

struct nl_msg {
	struct nlmsghdr nh;
	union {
		struct ifinfomsg ifi;
		struct ifaddrmsg ifa;
		struct rtmsg rt;
		struct ndmsg nd;
		struct genlmsghdr genl;
	};
	char attrs[256];
};

static void nl_init(struct nl_msg *m, int type, int flags, size_t hdr)
{
	memset(m, 0, sizeof(*m));
	m->nh.nlmsg_len = NLMSG_LENGTH(hdr);
	m->nh.nlmsg_type = type;
	m->nh.nlmsg_flags = NLM_F_REQUEST | flags;
}

static struct rtattr *nl_attr(struct nl_msg *m, unsigned short type,
			      const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)m +
					       NLMSG_ALIGN(m->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	m->nh.nlmsg_len = NLMSG_ALIGN(m->nh.nlmsg_len) +
			  RTA_ALIGN(rta->rta_len);
	return rta;
}

/* A nest: its length is fixed by nl_nest_end() */
static struct rtattr *nl_nest(struct nl_msg *m, unsigned short type)
{
	return nl_attr(m, type, NULL, 0);
}

static void nl_nest_end(struct nl_msg *m, struct rtattr *nest)
{
	nest->rta_len = (char *)m + m->nh.nlmsg_len - (char *)nest;
}

static void nl_str(struct nl_msg *m, unsigned short type, const char *s)
{
	nl_attr(m, type, s, strlen(s) + 1);
}

/* The address bytes of @ss, for IFA_LOCAL, RTA_DST, NDA_DST */
static size_t addr_bytes(const struct sockaddr_storage *ss, const void **p)
{
	if (ss->ss_family == AF_INET) {
		*p = &((const struct sockaddr_in *)ss)->sin_addr;
		return 4;
	}
	*p = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	return 16;
}

static int mac_parse(const char *s, unsigned char mac[6])
{
	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		   &mac[2], &mac[3], &mac[4], &mac[5]) != 6) {
		tr_log("bad MAC address %s", s);
		return -EINVAL;
	}
	return 0;
}

int tr_nl_open(int ns)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, err;

	fd = tr_ns_socket(ns, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
			  NETLINK_ROUTE);
	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		tr_log("binding a netlink socket: %s", strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

/* Send @m and wait for its acknowledgment: 0 or the kernel's -errno */
static int nl_talk(int nl, struct nl_msg *m, const char *what)
{
	static uint32_t seq;
	union {
		struct nlmsghdr nh;
		char buf[1024];
	} ans;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nlmsghdr *nh;
	struct nlmsgerr *e;
	int err = -EIO;
	ssize_t n;

	m->nh.nlmsg_flags |= NLM_F_ACK;
	m->nh.nlmsg_seq = ++seq;
	if (sendto(nl, m, m->nh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		n = recv(nl, &ans, sizeof(ans), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		for (nh = &ans.nh; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != m->nh.nlmsg_seq ||
			    nh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = NLMSG_DATA(nh);
			err = e->error;
			goto out;
		}
	}
out:
	if (err)
		tr_log("rtnetlink, %s: %s", what, strerror(-err));
	return err;
}

/* The index of @name in the namespace of @nl (any socket will do) */
static int ifindex(int nl, const char *name)
{
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(nl, SIOCGIFINDEX, &ifr)) {
		int err = -errno;

		tr_log("no link %s: %s", name, strerror(errno));
		return err;
	}
	return ifr.ifr_ifindex;
}

int tr_nl_veth(int nl, const char *name, const char *mac, const char *peer,
	       const char *peer_mac, int peer_ns)
{
	struct rtattr *info, *data, *peer_info;
	unsigned char addr[6];
	struct ifinfomsg pi = {};
	struct nl_msg m;
	uint32_t fd = peer_ns;

	nl_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(m.ifi));
	nl_str(&m, IFLA_IFNAME, name);
	if (mac) {
		if (mac_parse(mac, addr))
			return -EINVAL;
		nl_attr(&m, IFLA_ADDRESS, addr, sizeof(addr));
	}
	info = nl_nest(&m, IFLA_LINKINFO);
	nl_str(&m, IFLA_INFO_KIND, "veth");
	data = nl_nest(&m, IFLA_INFO_DATA);
	peer_info = nl_attr(&m, VETH_INFO_PEER, &pi, sizeof(pi));
	nl_str(&m, IFLA_IFNAME, peer);
	if (peer_mac) {
		if (mac_parse(peer_mac, addr))
			return -EINVAL;
		nl_attr(&m, IFLA_ADDRESS, addr, sizeof(addr));
	}
	if (peer_ns >= 0)
		nl_attr(&m, IFLA_NET_NS_FD, &fd, sizeof(fd));
	nl_nest_end(&m, peer_info);
	nl_nest_end(&m, data);
	nl_nest_end(&m, info);
	return nl_talk(nl, &m, "creating a veth");
}

int tr_nl_link_del(int nl, const char *name)
{
	struct nl_msg m;

	nl_init(&m, RTM_DELLINK, 0, sizeof(m.ifi));
	nl_str(&m, IFLA_IFNAME, name);
	return nl_talk(nl, &m, "deleting a link");
}

/* No link-local address: no DAD, router or MLD chatter */
static int link_addrgenmode_none(int nl, const char *name)
{
	struct rtattr *spec, *af;
	uint8_t mode = IN6_ADDR_GEN_MODE_NONE;
	struct nl_msg m;

	nl_init(&m, RTM_NEWLINK, 0, sizeof(m.ifi));
	nl_str(&m, IFLA_IFNAME, name);
	spec = nl_nest(&m, IFLA_AF_SPEC);
	af = nl_nest(&m, AF_INET6);
	nl_attr(&m, IFLA_INET6_ADDR_GEN_MODE, &mode, sizeof(mode));
	nl_nest_end(&m, af);
	nl_nest_end(&m, spec);
	return nl_talk(nl, &m, "setting addrgenmode none");
}

int tr_nl_link_up(int nl, const char *name)
{
	struct nl_msg m;
	int err;

	err = link_addrgenmode_none(nl, name);
	if (err)
		return err;
	nl_init(&m, RTM_NEWLINK, 0, sizeof(m.ifi));
	m.ifi.ifi_flags = IFF_UP;
	m.ifi.ifi_change = IFF_UP;
	nl_str(&m, IFLA_IFNAME, name);
	return nl_talk(nl, &m, "setting a link up");
}

static int nl_flags(enum tr_nl_cmd cmd)
{
	switch (cmd) {
	case TR_NL_ADD:
		return NLM_F_CREATE | NLM_F_EXCL;
	case TR_NL_REPLACE:
		return NLM_F_CREATE | NLM_F_REPLACE;
	default:
		return 0;
	}
}

int tr_nl_addr(int nl, enum tr_nl_cmd cmd, const struct sockaddr_storage *a,
	       int plen, const char *dev)
{
	uint32_t flags = IFA_F_NODAD;
	struct nl_msg m;
	const void *p;
	size_t len;
	int idx;

	idx = ifindex(nl, dev);
	if (idx < 0)
		return idx;
	nl_init(&m, cmd == TR_NL_DEL ? RTM_DELADDR : RTM_NEWADDR,
		nl_flags(cmd), sizeof(m.ifa));
	m.ifa.ifa_family = a->ss_family;
	m.ifa.ifa_prefixlen = plen;
	m.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	m.ifa.ifa_index = idx;
	len = addr_bytes(a, &p);
	nl_attr(&m, IFA_LOCAL, p, len);
	nl_attr(&m, IFA_ADDRESS, p, len);
	if (a->ss_family == AF_INET6)
		nl_attr(&m, IFA_FLAGS, &flags, sizeof(flags));
	return nl_talk(nl, &m, cmd == TR_NL_DEL ? "removing an address" :
						  "adding an address");
}

static int route_req(int nl, enum tr_nl_cmd cmd, int type,
		     const struct sockaddr_storage *dst, int plen,
		     const char *dev, int rto_min_ms)
{
	struct rtattr *metrics;
	uint32_t lock = 1 << RTAX_RTO_MIN, rto_min = rto_min_ms;
	struct nl_msg m;
	const void *p;
	int idx = 0;
	size_t len;

	if (dev) {
		idx = ifindex(nl, dev);
		if (idx < 0)
			return idx;
	}
	nl_init(&m, cmd == TR_NL_DEL ? RTM_DELROUTE : RTM_NEWROUTE,
		nl_flags(cmd), sizeof(m.rt));
	m.rt.rtm_family = dst->ss_family;
	m.rt.rtm_dst_len = plen;
	m.rt.rtm_table = RT_TABLE_MAIN;
	m.rt.rtm_type = type;
	if (cmd == TR_NL_DEL) {
		/* Whoever added it: ip(8) says proto boot */
		m.rt.rtm_scope = RT_SCOPE_NOWHERE;
	} else {
		m.rt.rtm_protocol = RTPROT_BOOT;
		m.rt.rtm_scope = dev ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	}
	len = addr_bytes(dst, &p);
	nl_attr(&m, RTA_DST, p, len);
	if (dev)
		nl_attr(&m, RTA_OIF, &idx, sizeof(idx));
	if (rto_min_ms > 0) {
		/* ip(8) locks rto_min: only a locked value overrides 200 ms */
		metrics = nl_nest(&m, RTA_METRICS);
		nl_attr(&m, RTAX_LOCK, &lock, sizeof(lock));
		nl_attr(&m, RTAX_RTO_MIN, &rto_min, sizeof(rto_min));
		nl_nest_end(&m, metrics);
	}
	return nl_talk(nl, &m, cmd == TR_NL_DEL ? "deleting a route" :
						  "adding a route");
}

int tr_nl_route(int nl, enum tr_nl_cmd cmd, int type,
		const struct sockaddr_storage *dst, int plen, const char *dev)
{
	return route_req(nl, cmd, type, dst, plen, dev, 0);
}

int tr_nl_route_rto(int nl, enum tr_nl_cmd cmd,
		    const struct sockaddr_storage *dst, int plen,
		    const char *dev, int rto_min_ms)
{
	return route_req(nl, cmd, RTN_UNICAST, dst, plen, dev, rto_min_ms);
}

int tr_nl_neigh(int nl, const struct sockaddr_storage *a, const char *mac,
		const char *dev)
{
	unsigned char lladdr[6];
	struct nl_msg m;
	const void *p;
	size_t len;
	int idx;

	idx = ifindex(nl, dev);
	if (idx < 0)
		return idx;
	if (mac_parse(mac, lladdr))
		return -EINVAL;
	nl_init(&m, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, sizeof(m.nd));
	m.nd.ndm_family = a->ss_family;
	m.nd.ndm_ifindex = idx;
	m.nd.ndm_state = NUD_PERMANENT;
	len = addr_bytes(a, &p);
	nl_attr(&m, NDA_DST, p, len);
	nl_attr(&m, NDA_LLADDR, lladdr, sizeof(lladdr));
	return nl_talk(nl, &m, "replacing a neighbour");
}

/*
 * An RTM_NEWLINK message for @name: 1 once it is running with a qdisc
 * other than noop (link-watch attaches the real one when it activates
 * the device, after marking it running), 0 if not yet, -1 if not @name.
 */
static int link_ready(struct nlmsghdr *nh, const char *name)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = IFLA_PAYLOAD(nh), named = 0, qdisc = 0;
	struct rtattr *rta;

	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFLA_IFNAME)
			named = !strcmp(RTA_DATA(rta), name);
		if (rta->rta_type == IFLA_QDISC)
			qdisc = strcmp(RTA_DATA(rta), "noop");
	}
	if (!named)
		return -1;
	return (ifi->ifi_flags & IFF_RUNNING) && qdisc;
}

static int link_query(int fd, const char *name)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nl_msg m;

	nl_init(&m, RTM_GETLINK, 0, sizeof(m.ifi));
	nl_str(&m, IFLA_IFNAME, name);
	if (sendto(fd, &m, m.nh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	return 0;
}

int tr_nl_link_wait(int ns, const char *name, int timeout_ms)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK,
	};
	int64_t deadline = tr_now_ms() + timeout_ms;
	static char buf[16384];
	struct nlmsghdr *nh;
	int fd, err, ready;
	ssize_t n;

	fd = tr_ns_socket(ns, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
			  NETLINK_ROUTE);
	if (fd < 0)
		return fd;
	/* Subscribed first: no change can come between query and wait */
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	err = err ?: link_query(fd, name);
	while (!err) {
		err = tr_poll(fd, POLLIN, deadline);
		if (err)
			break;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == ENOBUFS) {
			/* Events were lost: ask again */
			err = link_query(fd, name);
			continue;
		}
		if (n < 0) {
			err = errno == EAGAIN || errno == EINTR ? 0 : -errno;
			continue;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
				if (err)
					break;
			}
			if (nh->nlmsg_type != RTM_NEWLINK)
				continue;
			ready = link_ready(nh, name);
			if (ready > 0) {
				close(fd);
				return 0;
			}
		}
	}
	close(fd);
	if (err == -ETIMEDOUT)
		tr_log("%s is not running after %d ms", name, timeout_ms);
	else
		tr_log("waiting for %s: %s", name, strerror(-err));
	return err;
}

/* The id of the generic netlink family @name, asking on @fd; or -errno */
static int genl_family(int fd, const char *name)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr nh;
		char buf[4096];
	} ans;
	struct nlmsghdr *nh;
	struct rtattr *rta;
	struct nl_msg m;
	ssize_t n;
	int len;

	nl_init(&m, GENL_ID_CTRL, 0, sizeof(m.genl));
	m.genl.cmd = CTRL_CMD_GETFAMILY;
	m.genl.version = 1;
	nl_str(&m, CTRL_ATTR_FAMILY_NAME, name);
	if (sendto(fd, &m, m.nh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	do {
		n = recv(fd, &ans, sizeof(ans), 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	nh = &ans.nh;
	if (!NLMSG_OK(nh, n))
		return -EIO;
	if (nh->nlmsg_type == NLMSG_ERROR)
		return ((struct nlmsgerr *)NLMSG_DATA(nh))->error ?: -EIO;
	len = nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	rta = (struct rtattr *)((char *)NLMSG_DATA(nh) + GENL_HDRLEN);
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == CTRL_ATTR_FAMILY_ID)
			return *(uint16_t *)RTA_DATA(rta);
	return -ENOENT;
}

int tr_nl_tcp_metrics_flush(int ns)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nl_msg m;
	int fd, id, err;

	fd = tr_ns_socket(ns, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
			  NETLINK_GENERIC);
	if (fd < 0)
		return fd;
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	id = err ?: genl_family(fd, TCP_METRICS_GENL_NAME);
	if (id < 0) {
		tr_log("generic netlink family %s: %s", TCP_METRICS_GENL_NAME,
		       strerror(-id));
		close(fd);
		return id;
	}
	/* No address: every entry of the namespace */
	nl_init(&m, id, 0, sizeof(m.genl));
	m.genl.cmd = TCP_METRICS_CMD_DEL;
	m.genl.version = TCP_METRICS_GENL_VERSION;
	err = nl_talk(fd, &m, "flushing tcp_metrics");
	close(fd);
	return err;
}
