/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What migrate.c and migrate_iperf3.c share: the fixture (the topology of
 * lib/migrate.c with the relay of lib/relay.c listening in origin) and the
 * verdict of a run, which names the first reason it failed for: stall,
 * reset, byte mismatch, timeout or migration.
 */
#ifndef TCP_REPAIR_MIGRATE_H
#define TCP_REPAIR_MIGRATE_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "lib/tcp_repair.h"

#define TEST_TIMEOUT	300
#define RUN_TIMEOUT	120000		/* ms, one transfer with migrations */
#define STALL_MS	15000		/* nothing moved: the stream is stuck */
#ifndef MIGRATIONS
#define MIGRATIONS	4		/* origin -> target -> origin ... */
#endif
#define PORT		5201
#define NPROC		4		/* processes a test may start */
/*
 * Senders are paced (bytes/s): a dump takes milliseconds under emulation,
 * and a receive buffer (lib/relay.c) must still have room for what comes
 * after it, or even a kernel that does not freeze drops it, and nothing
 * is tested.
 */
#define RATE		(2 << 20)

FIXTURE(migrate) {
	struct tr_mig_topo m;
	struct tr_relay relay;
	bool relay_on;
	int lfd;			/* the guest's listener */
	int fd[2];			/* the peer's and the guest's sockets */
	pid_t pid[NPROC];
	int out[2], err[2];		/* stdout and stderr (memfd) */
};

FIXTURE_VARIANT(migrate) {
	int family;
	bool reverse;			/* the guest sends */
};

FIXTURE_SETUP(migrate)
{
	int err, i;

	self->lfd = -1;
	self->relay_on = false;
	for (i = 0; i < NPROC; i++)
		self->pid[i] = -1;
	for (i = 0; i < 2; i++) {
		self->fd[i] = -1;
		self->out[i] = -1;
		self->err[i] = -1;
	}
	err = tr_mig_topo_init(&self->m, variant->family);
	if (err == -ENOENT)
		SKIP(return, "ip(8) from iproute2 is needed");
	if (err == -EPERM)
		SKIP(return, "network namespaces need CAP_SYS_ADMIN");
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, tr_relay_start(&self->relay, &self->m, PORT, PORT));
	self->relay_on = true;
}

FIXTURE_TEARDOWN(migrate)
{
	int i;

	for (i = 0; i < NPROC; i++) {
		if (self->pid[i] > 0) {
			kill(self->pid[i], SIGKILL);
			waitpid(self->pid[i], NULL, 0);
		}
	}
	for (i = 0; i < 2; i++) {
		if (self->fd[i] >= 0)
			close(self->fd[i]);
		if (self->out[i] >= 0)
			close(self->out[i]);
		if (self->err[i] >= 0)
			close(self->err[i]);
	}
	if (self->lfd >= 0)
		close(self->lfd);
	if (self->relay_on)
		tr_relay_stop(&self->relay);
	tr_mig_topo_fini(&self->m);
}

/*
 * A migration is due each time another 1/(MIGRATIONS + 2) went through:
 * the last one comes well before the end, while the streams still flow.
 */
static bool migration_due(const struct tr_relay *r, uint64_t done,
			  uint64_t total)
{
	return r->migrations < MIGRATIONS &&
	       done >= (r->migrations + 1) * (total / (MIGRATIONS + 2));
}

/* The verdict of a run: the first reason it failed for, if any */
struct verdict {
	char reason[16];
	char detail[256];
};

static void verdict_set(struct verdict *v, const char *reason,
			const char *fmt, ...) __printf(3, 4);

static void verdict_set(struct verdict *v, const char *reason,
			const char *fmt, ...)
{
	va_list ap;

	if (v->reason[0])
		return;
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
}

static void report(struct __test_metadata *_metadata, const struct tr_relay *r,
		   const struct verdict *v)
{
	TH_LOG("%d of %d migrations; stream at originals in repair: %d times, missed %d",
	       r->migrations, MIGRATIONS, r->exposed, r->unexposed);
	TH_LOG("originals acknowledged %llu bytes in repair mode, %d changed while dumped",
	       (unsigned long long)r->acked_bytes, r->dumps_changed);
	if (v->reason[0])
		TH_LOG("FAIL: %s: %s", v->reason, v->detail);
}

/*
 * Every migration done, each with the stream reaching the frozen original
 * (otherwise the window was not exercised), and every image consistent.
 */
static void check_migrations(const struct tr_relay *r, struct verdict *v)
{
	if (r->migrations != MIGRATIONS)
		verdict_set(v, "migration", "%d of %d migrations completed",
			    r->migrations, MIGRATIONS);
	else if (r->unexposed)
		verdict_set(v, "migration",
			    "in %d windows nothing reached the original: not tested",
			    r->unexposed);
	else if (r->dumps_changed)
		verdict_set(v, "migration",
			    "%d sockets changed in repair mode while dumped",
			    r->dumps_changed);
}

/* The relay's failure, if it had one, comes first */
static void relay_verdict(const struct tr_relay *r, struct verdict *v)
{
	if (r->reason[0])
		verdict_set(v, r->reason, "%s", r->error);
}

#endif /* TCP_REPAIR_MIGRATE_H */
