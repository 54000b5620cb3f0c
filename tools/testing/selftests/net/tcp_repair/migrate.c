// SPDX-License-Identifier: GPL-2.0
/*
 * Live migration under load, no network lock: a relay (lib/relay.c) plays
 * passt's part between a peer and a guest and migrates with its
 * connection between origin and target, back and forth, TR_MIGRATIONS times,
 * while byte patterns stream through it both ways at once. Nothing keeps
 * the segments of the two ends away from the originals while they are
 * dumped: the relay even waits, originals in repair mode, until each
 * stream reaches its frozen original. A kernel that does not freeze
 * acknowledges those bytes from the original; its copy never gets them and
 * the stream stalls. Each direction is checked byte-exact, up to an
 * orderly end. A failure names its reason: stall, reset, byte mismatch,
 * timeout or migration.
 *
 * The relay migrates with passt's recipe (lib/relay.c, lib/repair.c).
 * Source: repair mode on for every socket first, then per socket TCP_INFO,
 * TCP_MAXSEG, TCP_TIMESTAMP, TCP_REPAIR_WINDOW, the send queue and then
 * the receive queue with their sequences, each read once. Target:
 * SO_REUSEADDR, repair on, bind, TCP_TIMESTAMP, the sequences, connect,
 * the queues, the options, TCP_REPAIR_WINDOW, TCP_REPAIR_OFF, then the
 * data that was never sent. The originals stay open in repair mode after
 * the copies went live, until the end of the run. A kernel whose frozen
 * originals still transmit (retransmissions with a clock ahead of the
 * copy's) fails it.
 *
 * migrate_iperf3.c runs the same migrations under iperf3.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "lib/tcp_repair.h"

#define TEST_TIMEOUT	300
#define NPROC		4		/* a sender and a receiver each way */
#define STREAM_BYTES	(4 << 20)	/* each way, 2 s at TR_MIG_RATE */

FIXTURE(migrate) {
	struct tr_mig m;
	int lfd;			/* the guest's listener */
	int fd[2];			/* the peer's and the guest's sockets */
	pid_t pid[NPROC];
};

FIXTURE_VARIANT(migrate) {
	int family;
};

FIXTURE_SETUP(migrate)
{
	int err, i;

	self->lfd = -1;
	self->fd[0] = -1;
	self->fd[1] = -1;
	for (i = 0; i < NPROC; i++)
		self->pid[i] = -1;
	err = tr_mig_init(&self->m, variant->family);
	if (tr_skip_reason(err))
		SKIP(return, "%s", tr_skip_reason(err));
	ASSERT_EQ(0, err);
}

FIXTURE_TEARDOWN(migrate)
{
	tr_kill_all(self->pid, NPROC);
	if (self->fd[0] >= 0)
		close(self->fd[0]);
	if (self->fd[1] >= 0)
		close(self->fd[1]);
	if (self->lfd >= 0)
		close(self->lfd);
	tr_mig_fini(&self->m);
}

FIXTURE_VARIANT_ADD(migrate, ipv4) {
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(migrate, ipv6) {
	.family = AF_INET6,
};

/* Each 4-byte word of a stream is a function of its offset and @seed */
static void pattern(unsigned char *buf, uint64_t off, size_t len,
		    uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++, off++) {
		uint32_t x = ((uint32_t)(off >> 2) ^ seed) * 2654435761u;

		x ^= x >> 15;
		buf[i] = x >> (8 * (off & 3));
	}
}

/*
 * One direction, shared with its sender and receiver processes; the
 * counters are written by one process, read by the others with atomics.
 */
struct stream {
	uint64_t sent, rcvd;
	uint64_t bad;			/* offset of the first wrong byte */
	unsigned char got, want;
	uint32_t seed;
	int may_close;			/* set once the migrations are over */
};

enum { S_OK, S_RESET = 2, S_ERROR, S_SHORT, S_MISMATCH };

static int sock_status(void)
{
	return errno == ECONNRESET || errno == EPIPE ? S_RESET : S_ERROR;
}

/* STREAM_BYTES of the pattern, then our FIN when the test allows it */
static int stream_sender(int fd, struct stream *s)
{
	unsigned char buf[65536];
	size_t len;
	ssize_t n;

	while (s->sent < STREAM_BYTES) {
		len = STREAM_BYTES - s->sent < sizeof(buf) ?
		      STREAM_BYTES - s->sent : sizeof(buf);
		pattern(buf, s->sent, len, s->seed);
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sock_status();
		__atomic_store_n(&s->sent, s->sent + n, __ATOMIC_RELAXED);
	}
	/* The relay migrates established connections, not half-closed ones */
	while (!__atomic_load_n(&s->may_close, __ATOMIC_RELAXED))
		tr_msleep(10);
	return shutdown(fd, SHUT_WR) ? sock_status() : S_OK;
}

/* Every byte checked, then EOF exactly at STREAM_BYTES */
static int stream_receiver(int fd, struct stream *s)
{
	unsigned char buf[65536], want[65536];
	ssize_t n, i;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sock_status();
		if (n == 0)
			return s->rcvd == STREAM_BYTES ? S_OK : S_SHORT;
		pattern(want, s->rcvd, n, s->seed);
		for (i = 0; i < n; i++) {
			if (buf[i] != want[i]) {
				s->bad = s->rcvd + i;
				s->got = buf[i];
				s->want = want[i];
				return S_MISMATCH;
			}
		}
		__atomic_store_n(&s->rcvd, s->rcvd + n, __ATOMIC_RELAXED);
	}
}

static pid_t stream_spawn(int fd, struct stream *s,
			  int (*fn)(int, struct stream *))
{
	pid_t parent = getpid(), pid;
	unsigned int rate = TR_MIG_RATE;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid)
		return pid < 0 ? -errno : pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(S_ERROR);
	/* The relay's sockets are not ours: closed there, they must go */
	if (fd > 3)
		close_range(3, fd - 1, 0);
	close_range(fd + 1, ~0U, 0);
	/* Blocking: the process waits in the kernel like any application */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (fn == stream_sender &&
	    setsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, &rate,
		       sizeof(rate)))
		_exit(S_ERROR);
	_exit(fn(fd, s));
}

static void stream_status(struct tr_verdict *v, const char *who, int status,
			  const struct stream *s)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

	switch (code) {
	case S_OK:
		return;
	case S_RESET:
		tr_verdict_set(v, "reset", "the %s's connection was reset", who);
		return;
	case S_SHORT:
		tr_verdict_set(v, "byte mismatch",
			       "%s: EOF after %llu of %u bytes", who,
			       (unsigned long long)s->rcvd, STREAM_BYTES);
		return;
	case S_MISMATCH:
		tr_verdict_set(v, "byte mismatch",
			       "%s: byte %llu is 0x%02x, not 0x%02x", who,
			       (unsigned long long)s->bad, s->got, s->want);
		return;
	default:
		tr_verdict_set(v, "relay", "the %s failed (status 0x%x)", who,
			       status);
	}
}

/* The peer connects through the relay, the guest accepts: both fds */
static int stream_connect(struct __test_metadata *_metadata,
			  struct _test_data_migrate *self, int family)
{
	int64_t deadline = tr_now_ms() + TR_SETUP_TIMEOUT;
	struct sockaddr_storage guest, svc, cli;
	struct pollfd pfd;

	tr_addr(family, TR_BACKEND, TR_MIG_PORT, &guest);
	tr_addr(family, TR_SERVICE, TR_MIG_PORT, &svc);
	tr_addr(family, TR_CLIENT, 0, &cli);

	self->lfd = tr_ns_socket(self->m.topo.ns[TR_GUEST], family,
				 SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (self->lfd < 0)
		return self->lfd;
	if (bind(self->lfd, (struct sockaddr *)&guest, tr_addr_len(&guest)) ||
	    listen(self->lfd, 1))
		return -errno;
	self->fd[0] = tr_ns_socket(self->m.topo.ns[TR_PEER], family,
				   SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
				   0);
	if (self->fd[0] < 0)
		return self->fd[0];
	if (bind(self->fd[0], (struct sockaddr *)&cli, tr_addr_len(&cli)) ||
	    (connect(self->fd[0], (struct sockaddr *)&svc,
		     tr_addr_len(&svc)) && errno != EINPROGRESS))
		return -errno;

	while (self->fd[1] < 0 && tr_now_ms() < deadline &&
	       !self->m.relay.reason[0]) {
		pfd.fd = self->lfd;
		pfd.events = POLLIN;
		tr_relay_poll(&self->m.relay, &pfd, 1, 10);
		if (pfd.revents & POLLIN)
			self->fd[1] = accept4(self->lfd, NULL, NULL,
					      SOCK_NONBLOCK | SOCK_CLOEXEC);
	}
	if (self->fd[1] < 0) {
		TH_LOG("no connection through the relay: %s",
		       self->m.relay.error);
		return -ETIMEDOUT;
	}
	return 0;
}

/*
 * The peer and the guest each run a sender and a receiver process: two
 * byte patterns cross the relay, one each way, while it migrates
 * TR_MIGRATIONS times. Both must arrive complete and intact, then EOF.
 */
TEST_F_TIMEOUT(migrate, stream, TEST_TIMEOUT)
{
	static const char *const who[NPROC] = {
		"peer's sender", "guest's receiver",
		"guest's sender", "peer's receiver",
	};
	int64_t start, deadline, progress[2];
	int status[NPROC] = {}, i, left, stall;
	uint64_t rcvd[2] = { 0, 0 };
	struct tr_verdict v = {};
	struct stream *s;

	/* s[0]: peer to guest, s[1]: guest to peer */
	s = mmap(NULL, 2 * sizeof(*s), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, s);
	memset(s, 0, 2 * sizeof(*s));
	s[0].seed = 1;
	s[1].seed = 2;
	ASSERT_EQ(0, stream_connect(_metadata, self, variant->family));

	for (i = 0; i < 2; i++) {
		self->pid[2 * i] = stream_spawn(self->fd[i], &s[i],
						stream_sender);
		ASSERT_LT(0, self->pid[2 * i]);
		self->pid[2 * i + 1] = stream_spawn(self->fd[!i], &s[i],
						    stream_receiver);
		ASSERT_LT(0, self->pid[2 * i + 1]);
	}
	/* The sockets are the children's only: they close them at the end */
	for (i = 0; i < 2; i++) {
		close(self->fd[i]);
		self->fd[i] = -1;
	}

	start = tr_now_ms();
	progress[0] = start;
	progress[1] = start;
	deadline = start + TR_MIG_RUN_TIMEOUT;
	for (left = NPROC; left; ) {
		tr_relay_poll(&self->m.relay, NULL, 0, 20);
		for (i = 0; i < NPROC; i++) {
			if (self->pid[i] > 0 &&
			    waitpid(self->pid[i], &status[i], WNOHANG) ==
			    self->pid[i]) {
				self->pid[i] = -1;
				left--;
			}
		}
		tr_relay_verdict(&self->m.relay, &v);
		if (self->m.relay.resets)
			tr_verdict_set(&v, "reset", "the relay saw %d resets",
				       self->m.relay.resets);
		if (v.reason[0])
			break;
		if (self->m.relay.migrations == TR_MIGRATIONS) {
			__atomic_store_n(&s[0].may_close, 1, __ATOMIC_RELAXED);
			__atomic_store_n(&s[1].may_close, 1, __ATOMIC_RELAXED);
		}
		/* Each direction on its own: one may stall, the other not */
		stall = tr_relay_stall_ms(&self->m.relay);
		for (i = 0; i < 2; i++) {
			uint64_t now = __atomic_load_n(&s[i].rcvd,
						       __ATOMIC_RELAXED);

			if (now != rcvd[i]) {
				rcvd[i] = now;
				progress[i] = tr_now_ms();
			}
			if (rcvd[i] < STREAM_BYTES &&
			    tr_now_ms() - progress[i] > stall &&
			    tr_now_ms() - self->m.relay.progress_ms > stall)
				tr_verdict_set(&v, "stall",
					       "%s: %llu of %u bytes received, nothing for %d ms after migration %d",
					       i ? "guest to peer" : "peer to guest",
					       (unsigned long long)rcvd[i],
					       STREAM_BYTES, stall,
					       self->m.relay.migrations);
		}
		if (v.reason[0])
			break;
		/*
		 * The faster way decides: neither has sent everything yet
		 * when the last migration comes, both still stream.
		 */
		if (tr_relay_due(&self->m.relay, TR_MIGRATIONS,
				 rcvd[0] > rcvd[1] ? rcvd[0] : rcvd[1],
				 STREAM_BYTES) &&
		    tr_relay_migrate(&self->m.relay)) {
			tr_relay_verdict(&self->m.relay, &v);
			break;
		}
		if (tr_now_ms() > deadline)
			tr_verdict_set(&v, "timeout",
				       "%llu and %llu of %u bytes received in %d s",
				       (unsigned long long)s[0].rcvd,
				       (unsigned long long)s[1].rcvd,
				       STREAM_BYTES, TR_MIG_RUN_TIMEOUT / 1000);
		if (v.reason[0])
			break;
	}
	TH_LOG("%llu bytes peer to guest, %llu guest to peer, in %lld ms",
	       (unsigned long long)s[0].rcvd, (unsigned long long)s[1].rcvd,
	       (long long)(tr_now_ms() - start));
	for (i = 0; i < NPROC && !v.reason[0]; i++)
		if (self->pid[i] < 0)
			stream_status(&v, who[i], status[i], &s[i / 2]);
	tr_relay_check(&self->m.relay, TR_MIGRATIONS, &v);
	if (!strcmp(v.reason, "stall"))
		tr_relay_log_state(&self->m.relay);
	tr_relay_report(&self->m.relay, TR_MIGRATIONS, &v);
	munmap(s, 2 * sizeof(*s));
	ASSERT_STREQ("", v.reason);
}

TEST_HARNESS_MAIN
