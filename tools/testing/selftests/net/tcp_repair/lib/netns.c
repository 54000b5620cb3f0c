// SPDX-License-Identifier: GPL-2.0
/*
 * Anonymous network namespaces joined by veth pairs.
 *
 * Namespaces are never named: the test keeps their file descriptors, so
 * they (and the veths inside) are freed with the last reference, even when
 * the harness kills the test. Links, addresses, routes and neighbours are
 * configured with ip(8), run in a child that enters the namespace and dies
 * with its parent.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tcp_repair.h"

/* Locally administered MACs, fixed: each link is private to the test. */
#define MAC_PEER_O	"02:00:00:00:01:01"	/* p-o, peer's end to origin */
#define MAC_ORIGIN	"02:00:00:00:01:02"	/* o-p, origin's end */
#define MAC_PEER_T	"02:00:00:00:02:01"	/* p-t, peer's end to target */
#define MAC_TARGET	"02:00:00:00:02:02"	/* t-p, target's end */
#define MAC_NOWHERE	"02:00:00:00:00:99"	/* no interface has it */

static const char *const host_addr4[] = {
	[TR_SERVICE]	= "192.0.2.1",
	[TR_CLIENT]	= "192.0.2.100",
};

static const char *const host_addr6[] = {
	[TR_SERVICE]	= "2001:db8::1",
	[TR_CLIENT]	= "2001:db8::100",
};

static int ns_current(void)
{
	return open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
}

/* Run @fn in network namespace @ns and come back. */
int tr_ns_run(int ns, int (*fn)(void *), void *arg)
{
	int home, ret, err;

	home = ns_current();
	if (home < 0) {
		err = -errno;
		tr_log("open(/proc/self/ns/net): %s", strerror(errno));
		return err;
	}
	if (setns(ns, CLONE_NEWNET)) {
		err = -errno;
		tr_log("setns(): %s", strerror(errno));
		close(home);
		return err;
	}
	ret = fn(arg);
	if (setns(home, CLONE_NEWNET)) {
		/* Nothing sensible can follow in the wrong namespace. */
		tr_log("setns() back home: %s", strerror(errno));
		abort();
	}
	close(home);
	return ret;
}

struct socket_args {
	int domain, type, protocol;
};

static int socket_fn(void *arg)
{
	struct socket_args *a = arg;
	int fd;

	fd = socket(a->domain, a->type, a->protocol);
	if (fd < 0) {
		fd = -errno;
		tr_log("socket(%d, %d, %d): %s", a->domain, a->type,
		       a->protocol, strerror(errno));
	}
	return fd;
}

/* A socket lives in the namespace it was created in, wherever we go next. */
int tr_ns_socket(int ns, int domain, int type, int protocol)
{
	struct socket_args a = { domain, type, protocol };

	return tr_ns_run(ns, socket_fn, &a);
}

static int lo_up(void)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr))
		err = -errno;
	close(fd);
	return err;
}

/* A new anonymous network namespace with lo up; the caller stays home. */
int tr_ns_new(void)
{
	int home, ns, err;

	home = ns_current();
	if (home < 0)
		return -errno;
	if (unshare(CLONE_NEWNET)) {
		err = -errno;
		tr_log("unshare(CLONE_NEWNET): %s", strerror(errno));
		close(home);
		return err;
	}
	ns = ns_current();
	if (ns < 0) {
		err = -errno;
	} else {
		err = lo_up();
		if (err)
			tr_log("bringing lo up: %s", strerror(-err));
	}
	if (setns(home, CLONE_NEWNET)) {
		tr_log("setns() back home: %s", strerror(errno));
		abort();
	}
	close(home);
	if (err) {
		if (ns >= 0)
			close(ns);
		return err;
	}
	return ns;
}

/*
 * Run ip(8) with @argv in @ns, @input (or nothing) on its stdin. Output is
 * shown, after @what, only when the command fails. Returns 0, -ENOENT when
 * ip(8) cannot be run, -EIO when it failed.
 */
static int ip_run(int ns, char *const argv[], const char *input,
		  const char *what)
{
	int outfd[2], infd[2] = { -1, -1 }, status, err = 0;
	pid_t parent = getpid(), pid;
	char out[2048], *save, *w;
	size_t len = 0;
	ssize_t n;

	if (pipe2(outfd, O_CLOEXEC))
		return -errno;
	if (input) {
		/* a few lines: the pipe takes them before ip(8) even runs */
		len = strlen(input);
		if (pipe2(infd, O_CLOEXEC))
			err = -errno;
		else if (write(infd[1], input, len) != (ssize_t)len)
			err = -EIO;
		if (err) {
			close(outfd[0]);
			close(outfd[1]);
			if (infd[0] >= 0) {
				close(infd[0]);
				close(infd[1]);
			}
			return err;
		}
		len = 0;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(outfd[0]);
		close(outfd[1]);
		if (input) {
			close(infd[0]);
			close(infd[1]);
		}
		return err;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		if (setns(ns, CLONE_NEWNET))
			_exit(125);
		if (input)
			dup2(infd[0], STDIN_FILENO);
		dup2(outfd[1], STDOUT_FILENO);
		dup2(outfd[1], STDERR_FILENO);
		execvp("ip", argv);
		_exit(127);
	}
	close(outfd[1]);
	if (input) {
		close(infd[0]);
		close(infd[1]);
	}
	while (len < sizeof(out) - 1) {
		n = read(outfd[0], out + len, sizeof(out) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	out[len] = '\0';
	close(outfd[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		tr_log("cannot run ip(8) from iproute2");
		return -ENOENT;
	}
	tr_log("ip %s: failed (status 0x%x)", what, status);
	for (w = strtok_r(out, "\n", &save); w; w = strtok_r(NULL, "\n", &save))
		tr_log("  %s", w);
	return -EIO;
}

/*
 * Run "ip <args>" in @ns. Arguments are separated by single spaces (none of
 * ours needs quoting).
 */
int tr_ip(int ns, const char *fmt, ...)
{
	char cmd[512], words[512], *argv[40], *save, *w;
	int argc = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);

	snprintf(words, sizeof(words), "%s", cmd);
	argv[argc++] = "ip";
	for (w = strtok_r(words, " ", &save); w && argc < 39;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	return ip_run(ns, argv, NULL, cmd);
}

/* One more line for tr_ip_batch(); an overflow fails the batch. */
void tr_ipb_add(struct tr_ipb *b, const char *fmt, ...)
{
	size_t room = sizeof(b->buf) - b->len;
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 1 >= room) {
		b->overflow = true;
		b->buf[b->len] = '\0';
		return;
	}
	b->len += n;
	b->buf[b->len++] = '\n';
	b->buf[b->len] = '\0';
}

/*
 * Run the lines of @b with one "ip -batch -" in @ns: one process instead of
 * one per line, which counts in a guest under emulation. ip(8) stops at the
 * first line that fails and names it. An empty batch does nothing.
 */
int tr_ip_batch(int ns, const struct tr_ipb *b)
{
	char *const argv[] = { "ip", "-batch", "-", NULL };

	if (b->overflow) {
		tr_log("ip -batch: too many lines");
		return -E2BIG;
	}
	if (!b->len)
		return 0;
	return ip_run(ns, argv, b->buf, "-batch");
}

struct link_args {
	const char *ifname;
	int timeout_ms;
};

static int link_wait_fn(void *arg)
{
	struct link_args *a = arg;
	int64_t deadline = tr_now_ms() + a->timeout_ms;
	struct ifreq ifr = {};
	int fd, err;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", a->ifname);
	for (;;) {
		if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
			err = -errno;
			tr_log("SIOCGIFFLAGS %s: %s", a->ifname, strerror(errno));
			break;
		}
		/* IFF_RUNNING: link-watch has seen the carrier, operstate up */
		if (ifr.ifr_flags & IFF_RUNNING) {
			err = 0;
			break;
		}
		if (tr_now_ms() > deadline) {
			err = -ETIMEDOUT;
			tr_log("%s is not running after %d ms", a->ifname,
			       a->timeout_ms);
			break;
		}
		tr_msleep(2);
	}
	close(fd);
	return err;
}

int tr_link_wait_up(int ns, const char *ifname, int timeout_ms)
{
	struct link_args a = { ifname, timeout_ms };

	return tr_ns_run(ns, link_wait_fn, &a);
}

struct route_args {
	const struct sockaddr_storage *src, *dst;
	int timeout_ms;
};

/*
 * A UDP socket bound to @src and connected to @dst: bind() fails while the
 * address is missing (or tentative) and connect() while there is no route.
 * IPv6 installs the local route of a new address asynchronously.
 */
static int route_wait_fn(void *arg)
{
	struct route_args *a = arg;
	int64_t deadline = tr_now_ms() + a->timeout_ms;
	struct sockaddr_storage dst = *a->dst;
	const char *what;
	int fd, err;

	((struct sockaddr_in *)&dst)->sin_port = htons(9);
	for (;;) {
		fd = socket(a->src->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		what = "bind";
		err = bind(fd, (struct sockaddr *)a->src, tr_addr_len(a->src));
		if (!err) {
			what = "connect";
			err = connect(fd, (struct sockaddr *)&dst,
				      tr_addr_len(&dst));
		}
		err = err ? -errno : 0;
		close(fd);
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

int tr_route_wait(int ns, const struct sockaddr_storage *src,
		  const struct sockaddr_storage *dst, int timeout_ms)
{
	struct route_args a = { src, dst, timeout_ms };

	return tr_ns_run(ns, route_wait_fn, &a);
}

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

socklen_t tr_addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
					  sizeof(struct sockaddr_in6);
}

/* For diagnostics: a few rotating static buffers. */
const char *tr_addr_str(const struct sockaddr_storage *ss)
{
	static char bufs[4][INET6_ADDRSTRLEN + 8];
	static unsigned int next;
	char *buf = bufs[next++ % 4];
	const void *addr;
	uint16_t port;

	if (ss->ss_family == AF_INET) {
		addr = &((const struct sockaddr_in *)ss)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	} else {
		addr = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	}
	if (!inet_ntop(ss->ss_family, addr, buf, INET6_ADDRSTRLEN))
		snprintf(buf, INET6_ADDRSTRLEN, "?");
	if (port)
		sprintf(buf + strlen(buf), ":%u", port);
	return buf;
}

static const char *host(const struct tr_topo *t, enum tr_host h)
{
	return t->family == AF_INET ? host_addr4[h] : host_addr6[h];
}

static int plen(const struct tr_topo *t)
{
	return t->family == AF_INET ? 32 : 128;
}

static const char *nodad_flag(const struct tr_topo *t)
{
	return t->family == AF_INET6 ? " nodad" : "";
}

static int wait_routes(struct tr_topo *t, enum tr_ns ns, enum tr_host self,
		       enum tr_host other)
{
	struct sockaddr_storage a, b;
	int err;

	tr_addr(t->family, self, 0, &a);
	tr_addr(t->family, other, 0, &b);
	/* the local route of our own address, then the route out */
	err = tr_route_wait(t->ns[ns], &a, &a, TR_SETUP_TIMEOUT);
	if (!err)
		err = tr_route_wait(t->ns[ns], &a, &b, TR_SETUP_TIMEOUT);
	return err;
}

void tr_topo_fini(struct tr_topo *t)
{
	int i;

	for (i = 0; i < TR_NS_NR; i++) {
		if (t->ns[i] >= 0)
			close(t->ns[i]);
		t->ns[i] = -1;
	}
}

int tr_topo_init(struct tr_topo *t, int family)
{
	static const struct {
		enum tr_ns ns;
		const char *ifname;
	} ends[] = {
		{ TR_PEER, "p-o" }, { TR_ORIGIN, "o-p" },
		{ TR_PEER, "p-t" }, { TR_TARGET, "t-p" },
	};
	struct tr_ipb b[TR_NS_NR] = {};
	const char *svc, *cli;
	pid_t pid = getpid();
	unsigned int i;
	int err;

	memset(t, 0, sizeof(*t));
	t->family = family;
	t->service_in = TR_ORIGIN;
	for (i = 0; i < TR_NS_NR; i++)
		t->ns[i] = -1;
	for (i = 0; i < TR_NS_NR; i++) {
		t->ns[i] = tr_ns_new();
		if (t->ns[i] < 0) {
			err = t->ns[i];
			goto fail;
		}
	}

	/*
	 * One ip(8) batch per namespace (one process instead of one per
	 * command), the peer's first: it creates the veths. iproute2 takes a
	 * path to a namespace file: our own fds will do. No link-local
	 * addresses: no DAD, router or MLD chatter.
	 */
	svc = host(t, TR_SERVICE);
	cli = host(t, TR_CLIENT);
	tr_ipb_add(&b[TR_PEER],
		   "link add p-o address %s type veth peer name o-p address %s netns /proc/%d/fd/%d",
		   MAC_PEER_O, MAC_ORIGIN, pid, t->ns[TR_ORIGIN]);
	tr_ipb_add(&b[TR_PEER],
		   "link add p-t address %s type veth peer name t-p address %s netns /proc/%d/fd/%d",
		   MAC_PEER_T, MAC_TARGET, pid, t->ns[TR_TARGET]);
	for (i = 0; i < 4; i++) {
		tr_ipb_add(&b[ends[i].ns], "link set dev %s addrgenmode none",
			   ends[i].ifname);
		tr_ipb_add(&b[ends[i].ns], "link set dev %s up",
			   ends[i].ifname);
	}
	tr_ipb_add(&b[TR_ORIGIN], "addr add %s/%d dev lo%s", svc, plen(t),
		   nodad_flag(t));
	tr_ipb_add(&b[TR_ORIGIN], "route add %s/%d dev o-p", cli, plen(t));
	tr_ipb_add(&b[TR_ORIGIN],
		   "neigh replace %s lladdr %s dev o-p nud permanent",
		   cli, MAC_PEER_O);
	tr_ipb_add(&b[TR_TARGET], "route add %s/%d dev t-p", cli, plen(t));
	tr_ipb_add(&b[TR_TARGET],
		   "neigh replace %s lladdr %s dev t-p nud permanent",
		   cli, MAC_PEER_T);
	err = tr_ip_batch(t->ns[TR_PEER], &b[TR_PEER]);
	err = err ?: tr_ip_batch(t->ns[TR_ORIGIN], &b[TR_ORIGIN]);
	err = err ?: tr_ip_batch(t->ns[TR_TARGET], &b[TR_TARGET]);
	for (i = 0; i < 4 && !err; i++)
		err = tr_link_wait_up(t->ns[ends[i].ns], ends[i].ifname,
				      TR_SETUP_TIMEOUT);
	if (err)
		goto fail;

	/*
	 * The peer's configuration comes last, after the links are running:
	 * ip(8) takes the RTNL, which link-watch holds while it marks a link
	 * running and activates its qdisc. Once it has the lock, packets sent
	 * on the links are not dropped by a noop qdisc.
	 */
	memset(&b[TR_PEER], 0, sizeof(b[TR_PEER]));
	tr_ipb_add(&b[TR_PEER], "addr add %s/%d dev lo%s", cli, plen(t),
		   nodad_flag(t));
	tr_ipb_add(&b[TR_PEER], "route add %s/%d dev p-o", svc, plen(t));
	tr_ipb_add(&b[TR_PEER],
		   "neigh replace %s lladdr %s dev p-o nud permanent",
		   svc, MAC_ORIGIN);
	tr_ipb_add(&b[TR_PEER],
		   "neigh replace %s lladdr %s dev p-t nud permanent",
		   svc, MAC_TARGET);
	err = tr_ip_batch(t->ns[TR_PEER], &b[TR_PEER]);
	err = err ?: wait_routes(t, TR_PEER, TR_CLIENT, TR_SERVICE);
	err = err ?: wait_routes(t, TR_ORIGIN, TR_SERVICE, TR_CLIENT);
	if (err)
		goto fail;
	return 0;

fail:
	tr_topo_fini(t);
	return err;
}

int tr_topo_init_mapped(struct tr_topo *t)
{
	int err;

	err = tr_topo_init(t, AF_INET);
	if (!err)
		t->mapped = true;
	return err;
}

int tr_topo_sock_family(const struct tr_topo *t)
{
	return t->mapped ? AF_INET6 : t->family;
}

void tr_topo_addr(const struct tr_topo *t, enum tr_host h, uint16_t port,
		  struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in sin;

	tr_addr(t->family, h, port, ss);
	if (!t->mapped)
		return;
	memcpy(&sin, ss, sizeof(sin));
	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = sin.sin_port;
	sin6->sin6_addr.s6_addr[10] = 0xff;
	sin6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&sin6->sin6_addr.s6_addr[12], &sin.sin_addr, 4);
}

/*
 * Make the path from @from towards the other end lose every packet: the
 * neighbour entry points at a MAC nobody has, the receiving veth sees an
 * OTHERHOST frame and IP drops it. The other direction is untouched.
 */
int tr_topo_block(struct tr_topo *t, enum tr_ns from, bool block)
{
	const char *svc = host(t, TR_SERVICE), *cli = host(t, TR_CLIENT);

	switch (from) {
	case TR_PEER:
		if (t->service_in == TR_ORIGIN)
			return tr_ip(t->ns[TR_PEER],
				     "neigh replace %s lladdr %s dev p-o nud permanent",
				     svc, block ? MAC_NOWHERE : MAC_ORIGIN);
		return tr_ip(t->ns[TR_PEER],
			     "neigh replace %s lladdr %s dev p-t nud permanent",
			     svc, block ? MAC_NOWHERE : MAC_TARGET);
	case TR_ORIGIN:
		return tr_ip(t->ns[TR_ORIGIN],
			     "neigh replace %s lladdr %s dev o-p nud permanent",
			     cli, block ? MAC_NOWHERE : MAC_PEER_O);
	case TR_TARGET:
		return tr_ip(t->ns[TR_TARGET],
			     "neigh replace %s lladdr %s dev t-p nud permanent",
			     cli, block ? MAC_NOWHERE : MAC_PEER_T);
	default:
		return -EINVAL;
	}
}

/*
 * First step of a migration: origin can no longer send anything to the
 * peer, so a socket closed there (or a segment for a socket that is gone)
 * cannot make it answer with a RST.
 */
int tr_topo_isolate_origin(struct tr_topo *t)
{
	return tr_ip(t->ns[TR_ORIGIN], "route del %s/%d dev o-p",
		     host(t, TR_CLIENT), plen(t));
}

/* The service address leaves origin and appears in target. */
int tr_topo_move_service(struct tr_topo *t)
{
	const char *svc = host(t, TR_SERVICE);
	int err;

	err = tr_ip(t->ns[TR_ORIGIN], "addr del %s/%d dev lo", svc, plen(t));
	err = err ?: tr_ip(t->ns[TR_TARGET], "addr add %s/%d dev lo%s", svc,
			   plen(t), nodad_flag(t));
	err = err ?: wait_routes(t, TR_TARGET, TR_SERVICE, TR_CLIENT);
	if (!err)
		t->service_in = TR_TARGET;
	return err;
}

/* Last step: the peer reaches the service address through target. */
int tr_topo_switch_peer(struct tr_topo *t)
{
	return tr_ip(t->ns[TR_PEER], "route replace %s/%d dev p-t",
		     host(t, TR_SERVICE), plen(t));
}

/*
 * Run @argv (searched in PATH) in @ns, stdout and stderr to @out and @err
 * (-1: inherited). The child dies with its parent. Returns its pid, or
 * -errno; a program that cannot be run exits with 127.
 */
pid_t tr_ns_spawn(int ns, char *const argv[], int out, int err)
{
	pid_t parent = getpid(), pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	if (setns(ns, CLONE_NEWNET))
		_exit(125);
	if ((out >= 0 && dup2(out, STDOUT_FILENO) < 0) ||
	    (err >= 0 && dup2(err, STDERR_FILENO) < 0))
		_exit(124);
	execvp(argv[0], argv);
	_exit(127);
}
