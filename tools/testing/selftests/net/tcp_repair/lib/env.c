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

int tr_env_init(struct tr_env *e, int family, unsigned int flags)
{
	int err;

	memset(e, 0, sizeof(*e));
	e->peer = -1;
	e->origin = -1;
	e->target = -1;
	err = tr_topo_init(&e->topo, family, flags & ~(TR_ENV_PAIR |
						       TR_ENV_TRACE));
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

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
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
