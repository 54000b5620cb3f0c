// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net of a namespace, read by a thread that entered it
 * (/proc/self/net follows the namespace of the reading thread): the MIB
 * counters and the TCP socket table.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_repair.h"

struct mib_args {
	const char *name;
	long val;
};

/*
 * snmp and netstat: pairs of lines, "Tcp: RtoAlgorithm RtoMin ..." then
 * "Tcp: 1 200 ...", named by nstat prefix and field: "TcpRtoMin".
 */
static int mib_table(const char *path, struct mib_args *a)
{
	char names[4096], values[4096], *n, *v, *sn, *sv;
	size_t plen;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(names, sizeof(names), f) &&
	       fgets(values, sizeof(values), f)) {
		n = strtok_r(names, "\n ", &sn);
		v = strtok_r(values, "\n ", &sv);
		if (!n || !v)
			continue;
		plen = strlen(n) - 1;		/* "Tcp:" */
		if (strncmp(a->name, n, plen))
			continue;
		for (n = strtok_r(NULL, "\n ", &sn), v = strtok_r(NULL, "\n ", &sv);
		     n && v;
		     n = strtok_r(NULL, "\n ", &sn), v = strtok_r(NULL, "\n ", &sv)) {
			if (!strcmp(a->name + plen, n)) {
				a->val = strtol(v, NULL, 10);
				fclose(f);
				return 0;
			}
		}
	}
	fclose(f);
	return -ENOENT;
}

/* snmp6: one "Ip6OutNoRoutes  12" a line, already named as nstat does */
static int mib_lines(const char *path, struct mib_args *a)
{
	char line[256], name[128];
	long val;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %ld", name, &val) == 2 &&
		    !strcmp(name, a->name)) {
			a->val = val;
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

static int mib_fn(void *arg)
{
	struct mib_args *a = arg;

	if (!mib_table("/proc/self/net/snmp", a) ||
	    !mib_table("/proc/self/net/netstat", a) ||
	    !mib_lines("/proc/self/net/snmp6", a))
		return 0;
	return -ENOENT;
}

long tr_mib(int ns, const char *name)
{
	struct mib_args a = { name, 0 };
	int err;

	err = tr_ns_run(ns, mib_fn, &a);
	if (err) {
		tr_log("%s not found in /proc/net/{snmp,netstat,snmp6}", name);
		return err;
	}
	return a.val;
}

struct table_args {
	uint16_t port;
	int state;
};

/* "  0: 0100007F:1F90 00000000:0000 0A ..." local address:port, st */
static int table_fn(void *arg)
{
	static const char *const files[] = {
		"/proc/self/net/tcp", "/proc/self/net/tcp6",
	};
	struct table_args *a = arg;
	unsigned int lport, st, i;
	char line[512];
	FILE *f;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		f = fopen(files[i], "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x",
				   &lport, &st) == 2 &&
			    lport == a->port && (int)st == a->state) {
				fclose(f);
				return 1;
			}
		}
		fclose(f);
	}
	return 0;
}

/* Sockets of /proc/net/tcp and tcp6 in any state but TIME_WAIT */
static int busy_fn(void *arg)
{
	static const char *const files[] = {
		"/proc/self/net/tcp", "/proc/self/net/tcp6",
	};
	unsigned int st, i;
	char line[512];
	int busy = 0;
	FILE *f;

	(void)arg;
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		f = fopen(files[i], "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			/* a FIN_WAIT2 without its process is a TIME_WAIT */
			if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%*x %*[0-9A-Fa-f]:%*x %x",
				   &st) == 1 &&
			    st != TR_TIME_WAIT && st != TR_FIN_WAIT2)
				busy++;
		}
		fclose(f);
	}
	return busy;
}

int tr_tcp_busy(int ns)
{
	return tr_ns_run(ns, busy_fn, NULL);
}

int tr_tcp_table_has(int ns, uint16_t port, int state)
{
	struct table_args a = { port, state };

	return tr_ns_run(ns, table_fn, &a);
}

int tr_tcp_table_wait(int ns, uint16_t port, int state, int timeout_ms)
{
	int64_t deadline = tr_now_ms() + timeout_ms;
	int ret;

	for (;;) {
		ret = tr_tcp_table_has(ns, port, state);
		if (ret)
			return ret < 0 ? ret : 0;
		if (tr_now_ms() > deadline)
			return -ETIMEDOUT;
		tr_msleep(1);
	}
}
