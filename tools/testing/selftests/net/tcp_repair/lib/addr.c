// SPDX-License-Identifier: GPL-2.0
/*
 * Socket addresses: the tests' hosts (documentation prefixes, RFC 5737
 * and RFC 3849), builders and printing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "tcp_repair.h"

static const char *const host_addr4[TR_HOSTS] = {
	[TR_SERVICE]	= "192.0.2.1",
	[TR_CLIENT]	= "192.0.2.100",
	[TR_RELAY]	= "198.51.100.1",
	[TR_BACKEND]	= "198.51.100.100",
};

static const char *const host_addr6[TR_HOSTS] = {
	[TR_SERVICE]	= "2001:db8::1",
	[TR_CLIENT]	= "2001:db8::100",
	[TR_RELAY]	= "2001:db8:1::1",
	[TR_BACKEND]	= "2001:db8:1::100",
};

void tr_sockaddr(int family, const char *addr, uint16_t port,
		 struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, addr, &sin->sin_addr);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
	}
}

void tr_addr(int family, enum tr_host host, uint16_t port,
	     struct sockaddr_storage *ss)
{
	tr_sockaddr(family, family == AF_INET ? host_addr4[host] :
						host_addr6[host], port, ss);
}

void tr_addr_loopback(int family, uint16_t port, struct sockaddr_storage *ss)
{
	tr_sockaddr(family, family == AF_INET ? "127.0.0.1" : "::1", port, ss);
}

void tr_addr_mapped(struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in sin;

	if (ss->ss_family != AF_INET)
		return;
	memcpy(&sin, ss, sizeof(sin));
	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = sin.sin_port;
	sin6->sin6_addr.s6_addr[10] = 0xff;
	sin6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&sin6->sin6_addr.s6_addr[12], &sin.sin_addr, 4);
}

socklen_t tr_addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
					  sizeof(struct sockaddr_in6);
}

uint16_t tr_addr_port(const struct sockaddr_storage *ss)
{
	/* sin_port and sin6_port share their offset */
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

int tr_addr_plen(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* For diagnostics: a few rotating static buffers. */
const char *tr_addr_str(const struct sockaddr_storage *ss)
{
	static char bufs[4][INET6_ADDRSTRLEN + 8];
	static unsigned int next;
	char *buf = bufs[next++ % 4];
	const void *addr;

	if (ss->ss_family == AF_INET)
		addr = &((const struct sockaddr_in *)ss)->sin_addr;
	else
		addr = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	if (!inet_ntop(ss->ss_family, addr, buf, INET6_ADDRSTRLEN))
		snprintf(buf, INET6_ADDRSTRLEN, "?");
	if (tr_addr_port(ss))
		sprintf(buf + strlen(buf), ":%u", tr_addr_port(ss));
	return buf;
}
