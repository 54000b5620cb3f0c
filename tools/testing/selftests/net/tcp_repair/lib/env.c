// SPDX-License-Identifier: GPL-2.0
/*
 * What the fixtures of the single-connection tests share: the topology, a
 * connection from the peer to the service address in origin, a trace
 * instance, the reasons to skip rather than fail, and the migration recipe
 * without a network lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp_repair.h"

const char *tr_skip_reason(int err)
{
	switch (err) {
	case -EPERM:
		return "network namespaces need CAP_SYS_ADMIN";
	case -EOPNOTSUPP:
		return "veth is needed (CONFIG_VETH)";
	case -EAFNOSUPPORT:
		return "this kernel has no IPv6";
	default:
		return NULL;
	}
}

int tr_env_connect(struct tr_env *e)
{
	struct sockaddr_storage svc, cli;
	int lfd, err;

	tr_topo_addr(&e->topo, TR_SERVICE, 0, &svc);
	tr_topo_addr(&e->topo, TR_CLIENT, 0, &cli);
	lfd = tr_listen(e->topo.ns[TR_ORIGIN], &svc, -1);
	if (lfd < 0)
		return lfd;
	err = tr_connect_to(lfd, e->topo.ns[TR_PEER], &cli,
			    TR_NONBLOCK | TR_NODELAY, &e->peer, &e->origin);
	close(lfd);
	return err;
}

/* The topologies of tr_env_share(), their netlink sockets closed */
static struct tr_topo shared[4];
static unsigned int nshared;

int tr_env_share(int family, unsigned int flags)
{
	struct tr_topo *t = &shared[nshared];
	int err, i;

	if (nshared == ARRAY_SIZE(shared))
		return -ENOSPC;
	err = tr_topo_init(t, family, flags & TR_TOPO_GUEST);
	if (err)
		return err;
	/* Each user opens its own: no reply is ever read by another */
	for (i = 0; i < TR_NS_NR; i++) {
		if (t->nl[i] >= 0)
			close(t->nl[i]);
		t->nl[i] = -1;
	}
	nshared++;
	return 0;
}

static const struct tr_topo *shared_topo(int family, unsigned int flags)
{
	unsigned int i;

	for (i = 0; i < nshared; i++)
		if (shared[i].family == family &&
		    (shared[i].flags & TR_TOPO_GUEST) == (flags & TR_TOPO_GUEST))
			return &shared[i];
	return NULL;
}

int tr_env_init(struct tr_env *e, int family, unsigned int flags)
{
	unsigned int topo_flags = flags & ~(TR_ENV_PAIR | TR_ENV_TRACE);
	const struct tr_topo *made;
	int err = -ENOENT;

	memset(e, 0, sizeof(*e));
	e->peer = -1;
	e->origin = -1;
	e->target = -1;
	made = shared_topo(family, topo_flags);
	if (made) {
		err = tr_topo_reuse(&e->topo, made, topo_flags);
		if (err)
			tr_log("the shared topology is not usable: a new one");
	}
	if (err)
		err = tr_topo_init(&e->topo, family, topo_flags);
	if (err)
		return err;
	err = flags & TR_ENV_PAIR ? tr_env_connect(e) : 0;
	if (err) {
		tr_env_fini(e);
		return err;
	}
	if (flags & TR_ENV_TRACE) {
		e->tracing = !tr_trace_start(&e->trace);
		if (!e->tracing)
			tr_log("tracefs unusable: SOCKET_REPAIR tracepoint checks skipped");
	}
	return 0;
}

/*
 * Abortively: a socket the test left with data or a FIN to send would
 * send it after the test, into the next one's topology
 */
static void close_fd(int *fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (*fd >= 0) {
		setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(*fd);
	}
	*fd = -1;
}

void tr_env_fini(struct tr_env *e)
{
	close_fd(&e->peer);
	close_fd(&e->origin);
	close_fd(&e->target);
	if (e->tracing)
		tr_trace_stop(&e->trace);
	e->tracing = false;
	tr_topo_fini(&e->topo);
}

/*
 * Closing a socket in repair mode is silent; a socket that is gone, or
 * one that leaves repair with no peer state, would answer the peer with a
 * RST: origin loses its route to the peer first.
 */
int tr_env_close_origin(struct tr_env *e)
{
	int err;

	err = tr_topo_isolate(&e->topo);
	if (err)
		return err;
	if (close(e->origin))
		err = -errno;
	e->origin = -1;
	return err;
}

int tr_env_leave(struct tr_env *e)
{
	return tr_env_close_origin(e) ?: tr_topo_move(&e->topo);
}

int tr_env_switch(struct tr_env *e)
{
	return tr_topo_switch(&e->topo);
}

int tr_env_migrate(struct tr_env *e, const struct tr_dump *d, int off_mode)
{
	int err;

	err = tr_env_leave(e);
	if (err)
		return err;
	e->target = tr_restore(e->topo.ns[TR_TARGET], d, off_mode);
	if (e->target < 0) {
		err = e->target;
		e->target = -1;
		return err;
	}
	return tr_env_switch(e);
}
