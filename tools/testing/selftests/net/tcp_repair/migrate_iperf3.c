// SPDX-License-Identifier: GPL-2.0
/*
 * The scenario of the report: an iperf3 client in the peer, the server in
 * the guest, a relay (lib/relay.c) playing passt's part in between, which
 * migrates with the connections (control and data) between origin and
 * target, back and forth, while iperf3 runs, one way or the other (-R). No
 * netfilter rule or route keeps segments away from the originals, and the
 * relay lets the stream reach them in repair mode before the copies go
 * live. Pass: both iperf3 ends finish without error, every migration went
 * through, and no byte the sender sent went missing.
 *
 * Skipped without iperf3. Not in the default run (TEST_GEN_PROGS_EXTENDED):
 * see scripts/migrate-loop.sh, or run ./migrate_iperf3 as root.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "lib/tcp_repair.h"

#define TEST_TIMEOUT	300
#define IPERF3_BYTES	(6 << 20)	/* 3 s at TR_MIG_RATE */

enum { CLIENT, SERVER, NPROC };

FIXTURE(migrate) {
	struct tr_mig m;
	pid_t pid[NPROC];
	int out[NPROC], err[NPROC];	/* stdout and stderr (memfd) */
};

FIXTURE_VARIANT(migrate) {
	int family;
	bool reverse;			/* the guest sends */
};

FIXTURE_SETUP(migrate)
{
	int err, i;

	for (i = 0; i < NPROC; i++) {
		self->pid[i] = -1;
		self->out[i] = -1;
		self->err[i] = -1;
	}
	err = tr_mig_init(&self->m, variant->family);
	if (tr_skip_reason(err))
		SKIP(return, "%s", tr_skip_reason(err));
	ASSERT_EQ(0, err);
}

FIXTURE_TEARDOWN(migrate)
{
	int i;

	tr_kill_all(self->pid, NPROC);
	for (i = 0; i < NPROC; i++) {
		if (self->out[i] >= 0)
			close(self->out[i]);
		if (self->err[i] >= 0)
			close(self->err[i]);
	}
	tr_mig_fini(&self->m);
}

FIXTURE_VARIANT_ADD(migrate, ipv4) {
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(migrate, ipv6) {
	.family = AF_INET6,
};

FIXTURE_VARIANT_ADD(migrate, ipv4_reverse) {
	.family = AF_INET,
	.reverse = true,
};

FIXTURE_VARIANT_ADD(migrate, ipv6_reverse) {
	.family = AF_INET6,
	.reverse = true,
};

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH") ?: "/usr/bin:/bin";
	char *copy = strdup(path), *dir, *save, file[512];
	bool found = false;

	for (dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(file, sizeof(file), "%s/%s", dir, prog);
		found = !access(file, X_OK);
	}
	free(copy);
	return found;
}

static int wait_listening(int ns, uint16_t port, pid_t pid, int timeout_ms)
{
	int64_t deadline = tr_now_ms() + timeout_ms;

	while (tr_now_ms() < deadline) {
		if (tr_tcp_table_has(ns, port, TR_LISTEN) == 1)
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -ECHILD;
		tr_msleep(10);
	}
	return -ETIMEDOUT;
}

/* The whole output of a program, from its memfd; NULL-terminated */
static char *slurp(int fd)
{
	struct stat st;
	char *buf;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st))
		return strdup("");
	buf = calloc(1, st.st_size + 1);
	if (!buf)
		return NULL;
	n = pread(fd, buf, st.st_size, 0);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return buf;
}

/* "bytes" of the "sum_sent" or "sum_received" object of iperf3's "end" */
static long long json_bytes(const char *json, const char *sum)
{
	char key[32];
	const char *p;

	p = strstr(json, "\"end\"");
	snprintf(key, sizeof(key), "\"%s\"", sum);
	p = p ? strstr(p, key) : NULL;
	p = p ? strstr(p, "\"bytes\":") : NULL;
	return p ? strtoll(p + 8, NULL, 10) : -1;
}

static void json_error(const char *json, char *buf, size_t size)
{
	const char *p = strstr(json, "\"error\":");
	size_t n = 0;

	buf[0] = '\0';
	if (!p)
		return;
	p += 8;
	while (*p == ' ' || *p == '"')
		p++;
	while (p[n] && p[n] != '"' && n + 1 < size)
		n++;
	memcpy(buf, p, n);
	buf[n] = '\0';
}

static void log_output(struct __test_metadata *_metadata, const char *who,
		       int fd)
{
	char *text = slurp(fd), *line, *save;

	if (!text)
		return;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		TH_LOG("%s: %s", who, line);
	free(text);
}

static pid_t spawn(struct _test_data_migrate *self, int i, int ns, char **argv)
{
	self->out[i] = memfd_create("iperf3-out", MFD_CLOEXEC);
	self->err[i] = memfd_create("iperf3-err", MFD_CLOEXEC);
	if (self->out[i] < 0 || self->err[i] < 0)
		return -errno;
	self->pid[i] = tr_ns_spawn(ns, argv, self->out[i], self->err[i]);
	return self->pid[i];
}

/* Wait for @pid until @deadline; its status, or -ETIMEDOUT */
static int reap(pid_t *pid, int64_t deadline)
{
	int status;

	for (;;) {
		pid_t ret = waitpid(*pid, &status, WNOHANG);

		if (ret == *pid) {
			*pid = -1;
			return status;
		}
		if (ret < 0)
			return -errno;
		if (tr_now_ms() > deadline)
			return -ETIMEDOUT;
		tr_msleep(10);
	}
}

/* iperf3 opens each of its connections with a cookie */
#define COOKIE_SIZE	37

static bool relay_done(const struct tr_relay *r)
{
	int i;

	for (i = 0; i < r->nconn; i++)
		if (!r->conn[i].done)
			return false;
	return true;
}

/* What the relay read from the peer on the busiest connection */
static long long relay_received(const struct tr_relay *r)
{
	uint64_t most = 0;
	int i;

	for (i = 0; i < r->nconn; i++)
		if (r->conn[i].bytes[TR_LEG_PEER] > most)
			most = r->conn[i].bytes[TR_LEG_PEER];
	return most;
}

/*
 * iperf3 through the relay: -n IPERF3_BYTES, the relay migrating TR_MIGRATIONS
 * times on the way. Both ends must finish without error, and the receiving
 * end (with -R the client, otherwise the relay) must have every byte the
 * sending end reports.
 */
TEST_F_TIMEOUT(migrate, iperf3, TEST_TIMEOUT)
{
	char svc[64], cli[64], guest[64], port[8], bytes[16], rate[16];
	char error[128];
	struct sockaddr_storage ss;
	int64_t start, deadline;
	struct tr_verdict v = {};
	int status = -1, sstatus;
	long long sent, rcvd;
	char *cjson, *sjson;
	char *client[16], *server[16];
	int n = 0, stall;

	if (!in_path("iperf3"))
		SKIP(return, "iperf3 is needed (Debian package iperf3)");

	tr_addr(variant->family, TR_SERVICE, 0, &ss);
	snprintf(svc, sizeof(svc), "%s", tr_addr_str(&ss));
	tr_addr(variant->family, TR_CLIENT, 0, &ss);
	snprintf(cli, sizeof(cli), "%s", tr_addr_str(&ss));
	tr_addr(variant->family, TR_BACKEND, 0, &ss);
	snprintf(guest, sizeof(guest), "%s", tr_addr_str(&ss));
	snprintf(port, sizeof(port), "%d", TR_MIG_PORT);
	snprintf(bytes, sizeof(bytes), "%d", IPERF3_BYTES);
	/* In bits/s; 16 KiB writes, not bursts of 128 KiB */
	snprintf(rate, sizeof(rate), "%d", TR_MIG_RATE * 8);

	client[n++] = "iperf3";
	client[n++] = "-c";
	client[n++] = svc;
	client[n++] = "-p";
	client[n++] = port;
	client[n++] = "-B";
	client[n++] = cli;
	client[n++] = "-n";
	client[n++] = bytes;
	client[n++] = "-b";
	client[n++] = rate;
	client[n++] = "-l";
	client[n++] = "16K";
	client[n++] = "--json";
	if (variant->reverse)
		client[n++] = "-R";
	client[n] = NULL;
	n = 0;
	server[n++] = "iperf3";
	server[n++] = "-s";
	server[n++] = "-1";
	server[n++] = "-B";
	server[n++] = guest;
	server[n++] = "-p";
	server[n++] = port;
	server[n++] = "--json";
	server[n] = NULL;

	ASSERT_LT(0, spawn(self, SERVER, self->m.topo.ns[TR_GUEST], server));
	ASSERT_EQ(0, wait_listening(self->m.topo.ns[TR_GUEST], TR_MIG_PORT,
				    self->pid[SERVER], TR_SETUP_TIMEOUT))
		log_output(_metadata, "iperf3 server", self->err[SERVER]);
	ASSERT_LT(0, spawn(self, CLIENT, self->m.topo.ns[TR_PEER], client));

	start = tr_now_ms();
	deadline = start + TR_MIG_RUN_TIMEOUT;
	self->m.relay.progress_ms = start;
	while (self->pid[CLIENT] > 0) {
		tr_relay_poll(&self->m.relay, NULL, 0, 20);
		if (waitpid(self->pid[CLIENT], &status, WNOHANG) ==
		    self->pid[CLIENT]) {
			self->pid[CLIENT] = -1;
			break;
		}
		/* Resets are iperf3's business: its verdict counts */
		tr_relay_verdict(&self->m.relay, &v);
		if (v.reason[0])
			break;
		if (tr_relay_due(&self->m.relay, TR_MIGRATIONS,
				 self->m.relay.total, IPERF3_BYTES) &&
		    tr_relay_migrate(&self->m.relay)) {
			tr_relay_verdict(&self->m.relay, &v);
			break;
		}
		stall = tr_relay_stall_ms(&self->m.relay);
		if (tr_now_ms() - self->m.relay.progress_ms > stall)
			tr_verdict_set(&v, "stall",
				       "%llu bytes relayed, nothing for %d ms after migration %d",
				       (unsigned long long)self->m.relay.total,
				       stall, self->m.relay.migrations);
		else if (tr_now_ms() > deadline)
			tr_verdict_set(&v, "timeout",
				       "%llu bytes relayed in %d s",
				       (unsigned long long)self->m.relay.total,
				       TR_MIG_RUN_TIMEOUT / 1000);
	}
	TH_LOG("iperf3 %s, %llu bytes relayed in %lld ms",
	       variant->reverse ? "-R" : "(guest receives)",
	       (unsigned long long)self->m.relay.total,
	       (long long)(tr_now_ms() - start));

	if (!v.reason[0]) {
		/* What the client's kernel still had to send reaches the relay */
		int64_t end = tr_now_ms() + TR_ARRIVAL_TIMEOUT;

		while (!relay_done(&self->m.relay) && tr_now_ms() < end)
			tr_relay_poll(&self->m.relay, NULL, 0, 20);
		/* The server writes its results after the client's */
		sstatus = reap(&self->pid[SERVER],
			       tr_now_ms() + TR_ARRIVAL_TIMEOUT);
		cjson = slurp(self->out[CLIENT]);
		sjson = slurp(self->out[SERVER]);
		ASSERT_NE(NULL, cjson);
		ASSERT_NE(NULL, sjson);
		json_error(cjson, error, sizeof(error));
		if (!error[0])
			json_error(sjson, error, sizeof(error));
		if (variant->reverse) {
			/*
			 * The client ends the test once it has them all; the
			 * server sent more meanwhile, some still in flight.
			 */
			sent = json_bytes(sjson, "sum_sent");
			rcvd = json_bytes(cjson, "sum_received");
		} else {
			/*
			 * iperf3's server stops counting at the client's
			 * TEST_END (and resets the connection), even without
			 * a relay: what the client sent must have reached the
			 * relay, which reads it to the end, cookie aside.
			 */
			sent = json_bytes(cjson, "sum_sent");
			rcvd = relay_received(&self->m.relay) - COOKIE_SIZE;
			TH_LOG("iperf3 server: %lld bytes received before the end of the test",
			       json_bytes(sjson, "sum_received"));
		}
		TH_LOG("%lld bytes sent, %lld received by the %s", sent, rcvd,
		       variant->reverse ? "iperf3 client" : "relay");
		if (error[0] || !WIFEXITED(status) || WEXITSTATUS(status))
			tr_verdict_set(&v, strstr(error, "reset") ? "reset" :
				       "iperf3",
				       "client status 0x%x, server 0x%x: %s",
				       status, sstatus, error);
		else if (rcvd < IPERF3_BYTES || sent < rcvd ||
			 (!variant->reverse && sent != rcvd))
			tr_verdict_set(&v, "byte mismatch",
				       "%lld bytes sent, %lld received, %d asked",
				       sent, rcvd, IPERF3_BYTES);
		free(cjson);
		free(sjson);
	}
	tr_relay_check(&self->m.relay, TR_MIGRATIONS, &v);
	if (!strcmp(v.reason, "stall"))
		tr_relay_log_state(&self->m.relay);
	tr_relay_report(&self->m.relay, TR_MIGRATIONS, &v);
	if (v.reason[0]) {
		log_output(_metadata, "iperf3 client", self->err[CLIENT]);
		log_output(_metadata, "iperf3 server", self->err[SERVER]);
	}
	ASSERT_STREQ("", v.reason);
}

TEST_HARNESS_MAIN
