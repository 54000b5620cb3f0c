// SPDX-License-Identifier: GPL-2.0
/*
 * Hand-made TCP segments from a raw socket, as restore tools send them to
 * re-create a FIN or an ACK: a bare 20-byte header, or one with whatever
 * options the caller made up.
 *
 * The raw socket is transparent and bound to the (usually foreign) source
 * address, so the kernel builds the IP header for both families. The TCP
 * checksum is computed here for IPv4 and by the kernel (IPV6_CHECKSUM) for
 * IPv6, except when a bad one is wanted.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcp_repair.h"

/* 20 bytes, no padding: every field is naturally aligned */
struct tr_tcphdr {
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t doff;		/* data offset in the high nibble */
	uint8_t flags;
	uint16_t win;
	uint16_t csum;
	uint16_t urg;
};

#define TR_TCPHDR_CSUM_OFF	16

static uint32_t csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (; len > 1; p += 2, len -= 2)
		sum += (p[0] << 8) | p[1];
	if (len)
		sum += p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* Checksum over the pseudo-header and the segment, in host order */
static uint16_t tcp_csum(const struct sockaddr_storage *src,
			 const struct sockaddr_storage *dst,
			 const void *seg, size_t len)
{
	uint32_t sum = 0;
	uint8_t tail[4];

	if (src->ss_family == AF_INET) {
		sum = csum_add(sum, &((struct sockaddr_in *)src)->sin_addr, 4);
		sum = csum_add(sum, &((struct sockaddr_in *)dst)->sin_addr, 4);
		sum += IPPROTO_TCP + len;
	} else {
		sum = csum_add(sum, &((struct sockaddr_in6 *)src)->sin6_addr,
			       16);
		sum = csum_add(sum, &((struct sockaddr_in6 *)dst)->sin6_addr,
			       16);
		tail[0] = len >> 24;
		tail[1] = len >> 16;
		tail[2] = len >> 8;
		tail[3] = len;
		sum = csum_add(sum, tail, 4);
		sum += IPPROTO_TCP;
	}
	return csum_fold(csum_add(sum, seg, len));
}

/* ::ffff:a.b.c.d is sent as IPv4, which is what it is on the wire. */
static void unmap(const struct sockaddr_storage *in,
		  struct sockaddr_storage *out)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)in;
	struct sockaddr_in *sin = (struct sockaddr_in *)out;

	*out = *in;
	if (in->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return;
	memset(out, 0, sizeof(*out));
	sin->sin_family = AF_INET;
	sin->sin_port = sin6->sin6_port;
	memcpy(&sin->sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
}

/* The kernel computes the TCP checksum of what we send, or not */
static int ipv6_checksum(int fd, bool on)
{
	int off = on ? TR_TCPHDR_CSUM_OFF : -1, err;

	if (!setsockopt(fd, SOL_IPV6, IPV6_CHECKSUM, &off, sizeof(off)))
		return 0;
	err = -errno;
	tr_log("setsockopt(IPV6_CHECKSUM, %d): %s", off, strerror(-err));
	return err;
}

int tr_inject_open(int ns, const struct sockaddr_storage *src_in)
{
	struct sockaddr_storage src;
	int fd, err, one = 1;

	unmap(src_in, &src);
	fd = tr_ns_socket(ns, src.ss_family, SOCK_RAW | SOCK_CLOEXEC,
			  IPPROTO_TCP);
	if (fd < 0)
		return fd;
	if (src.ss_family == AF_INET)
		err = setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));
	else
		err = setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one,
				 sizeof(one));
	if (err) {
		err = -errno;
		tr_log("setsockopt(IP(V6)_TRANSPARENT): %s", strerror(errno));
		close(fd);
		return err;
	}

	/* A raw socket takes no port: the ports are in our header */
	((struct sockaddr_in *)&src)->sin_port = 0;
	if (bind(fd, (struct sockaddr *)&src, tr_addr_len(&src))) {
		err = -errno;
		tr_log("raw bind(%s): %s", tr_addr_str(&src), strerror(errno));
		close(fd);
		return err;
	}
	err = src.ss_family == AF_INET6 ? ipv6_checksum(fd, true) : 0;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int tr_inject_send(int fd, const struct sockaddr_storage *src_in,
		   const struct sockaddr_storage *dst_in,
		   const struct tr_seg *seg)
{
	struct sockaddr_storage src, dst;
	size_t hlen = sizeof(struct tr_tcphdr) + seg->optlen;
	size_t len = hlen + seg->len;
	struct tr_tcphdr *th;
	bool v6_bad;
	uint16_t csum;
	ssize_t n;
	char *pkt;
	int err;

	unmap(src_in, &src);
	unmap(dst_in, &dst);
	if (src.ss_family != dst.ss_family)
		return -EAFNOSUPPORT;
	if (seg->optlen > TR_OPT_MAX || seg->optlen % 4 || seg->res > 0xf)
		return -EINVAL;

	pkt = calloc(1, len);
	if (!pkt)
		return -ENOMEM;
	th = (struct tr_tcphdr *)pkt;
	th->sport = htons(tr_addr_port(&src));
	th->dport = htons(tr_addr_port(&dst));
	th->seq = htonl(seg->seq);
	th->ack = htonl(seg->ack);
	th->doff = (hlen / 4) << 4 | seg->res;
	th->flags = seg->flags;
	th->win = htons(seg->win);
	th->urg = htons(seg->urg);
	if (seg->optlen)
		memcpy(pkt + sizeof(*th), seg->opts, seg->optlen);
	if (seg->len)
		memcpy(pkt + hlen, seg->data, seg->len);
	v6_bad = src.ss_family == AF_INET6 && seg->bad_csum;
	if (src.ss_family == AF_INET || v6_bad) {
		csum = tcp_csum(&src, &dst, pkt, len);
		if (seg->bad_csum)
			csum ^= 0x5a5a;
		th->csum = htons(csum);
	}

	((struct sockaddr_in *)&dst)->sin_port = 0;
	err = v6_bad ? ipv6_checksum(fd, false) : 0;
	n = err ? 0 : sendto(fd, pkt, len, 0, (struct sockaddr *)&dst,
			     tr_addr_len(&dst));
	if (!err && n != (ssize_t)len) {
		err = n < 0 ? -errno : -EIO;
		tr_log("raw sendto(%s): %s", tr_addr_str(&dst),
		       n < 0 ? strerror(errno) : "short write");
	}
	if (v6_bad) {
		int again = ipv6_checksum(fd, true);

		err = err ?: again;
	}
	free(pkt);
	return err;
}

int tr_inject(int ns, const struct sockaddr_storage *src,
	      const struct sockaddr_storage *dst, const struct tr_seg *seg)
{
	int fd, err;

	fd = tr_inject_open(ns, src);
	if (fd < 0)
		return fd;
	err = tr_inject_send(fd, src, dst, seg);
	close(fd);
	return err;
}

/*
 * Right after an address moved, the output route lookup of the raw socket
 * now and then finds no route to it (IPv6 adds the routes of an address
 * asynchronously): the segment never leaves, the no-route counter says
 * so, and it is sent again. Nothing else is retried.
 */
int tr_inject_routed(int ns, const struct sockaddr_storage *src,
		     const struct sockaddr_storage *dst,
		     const struct tr_seg *seg)
{
	struct sockaddr_storage d;
	const char *counter;
	long before, after;
	int tries, err;

	unmap(dst, &d);
	counter = d.ss_family == AF_INET6 ? "Ip6OutNoRoutes" : "IpOutNoRoutes";

	for (tries = 0; tries < 100; tries++) {
		before = tr_mib(ns, counter);
		if (before < 0)
			return before;
		err = tr_inject(ns, src, dst, seg);
		after = tr_mib(ns, counter);
		if (err || after < 0 || after == before)
			return err ?: (after < 0 ? after : 0);
		tr_log("injected segment found no route, sending it again");
		tr_msleep(10);
	}
	return -ENETUNREACH;
}

/*
 * The error a router on the path sends when a segment of the connection
 * @local -> @remote (ports included) with sequence number @seq is too big
 * for a link of MTU @mtu: ICMP "fragmentation needed" or ICMPv6 "packet
 * too big", quoting the IP header and the first 8 bytes of the segment.
 * Sent from @ns to @local (from @local's own namespace, it comes over
 * lo). The ICMPv6 checksum is the kernel's.
 */
int tr_inject_too_big(int ns, const struct sockaddr_storage *local_in,
		      const struct sockaddr_storage *remote_in, uint32_t seq,
		      uint32_t mtu)
{
	struct sockaddr_storage local, remote, to;
	uint8_t pkt[8 + 40 + 8] = {};
	struct tr_tcphdr th = {};
	size_t len;
	ssize_t n;
	int fd, err = 0;

	unmap(local_in, &local);
	unmap(remote_in, &remote);
	if (local.ss_family != remote.ss_family)
		return -EAFNOSUPPORT;
	th.sport = htons(tr_addr_port(&local));
	th.dport = htons(tr_addr_port(&remote));
	th.seq = htonl(seq);

	if (local.ss_family == AF_INET) {
		uint8_t *ip = pkt + 8;
		uint16_t csum;

		pkt[0] = 3;			/* ICMP_DEST_UNREACH */
		pkt[1] = 4;			/* ICMP_FRAG_NEEDED */
		pkt[6] = mtu >> 8;
		pkt[7] = mtu;
		ip[0] = 0x45;
		ip[2] = 1500 >> 8;
		ip[3] = 1500 & 0xff;
		ip[6] = 0x40;			/* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, &((struct sockaddr_in *)&local)->sin_addr, 4);
		memcpy(ip + 16, &((struct sockaddr_in *)&remote)->sin_addr, 4);
		memcpy(ip + 20, &th, 8);
		len = 8 + 20 + 8;
		csum = csum_fold(csum_add(0, pkt, len));
		pkt[2] = csum >> 8;
		pkt[3] = csum;
	} else {
		uint8_t *ip = pkt + 8;

		pkt[0] = 2;			/* ICMPV6_PKT_TOOBIG */
		pkt[4] = mtu >> 24;
		pkt[5] = mtu >> 16;
		pkt[6] = mtu >> 8;
		pkt[7] = mtu;
		ip[0] = 0x60;
		ip[4] = (1500 - 40) >> 8;
		ip[5] = (1500 - 40) & 0xff;
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, &((struct sockaddr_in6 *)&local)->sin6_addr, 16);
		memcpy(ip + 24, &((struct sockaddr_in6 *)&remote)->sin6_addr,
		       16);
		memcpy(ip + 40, &th, 8);
		len = 8 + 40 + 8;
	}

	fd = tr_ns_socket(ns, local.ss_family, SOCK_RAW | SOCK_CLOEXEC,
			  local.ss_family == AF_INET ? IPPROTO_ICMP :
						       IPPROTO_ICMPV6);
	if (fd < 0)
		return fd;
	to = local;
	((struct sockaddr_in *)&to)->sin_port = 0;
	n = sendto(fd, pkt, len, 0, (struct sockaddr *)&to, tr_addr_len(&to));
	if (n != (ssize_t)len) {
		err = n < 0 ? -errno : -EIO;
		tr_log("raw ICMP sendto(%s): %s", tr_addr_str(&to),
		       n < 0 ? strerror(errno) : "short write");
	}
	close(fd);
	return err;
}
