// SPDX-License-Identifier: GPL-2.0
/*
 * Error paths of the TCP_REPAIR socket option API: invalid TCP_REPAIR
 * values and lengths, listening sockets, callers without CAP_NET_ADMIN,
 * repair options used outside repair mode, out of range queue selections,
 * bad and inconsistent TCP_REPAIR_WINDOW, malformed TCP_REPAIR_OPTIONS,
 * and recv()/send() in repair mode. Each call must give the exact errno
 * (or be accepted, where the kernel ignores or takes the input as is),
 * change nothing else, and leave the connection usable both ways.
 *
 * Every test runs in its own network namespace, over loopback.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "../../kselftest_harness.h"
#include "lib/tcp_repair.h"

/* TCP option kinds (include/net/tcp.h), as used by TCP_REPAIR_OPTIONS */
#define OPT_MSS			2
#define OPT_WINDOW		3
#define OPT_SACK_PERM		4
#define OPT_TIMESTAMP		8
#define MAX_WSCALE		14	/* TCP_MAX_WSCALE */

#define IO_TIMEOUT_MS		5000

FIXTURE(api) {
	int listener;
	int cli;		/* connected to the listener, sent nothing */
	int srv;		/* its accepted end, sent nothing */
};

FIXTURE_VARIANT(api) {
	int family;
};

FIXTURE_VARIANT_ADD(api, ipv4) {
	.family = AF_INET,
};

FIXTURE_VARIANT_ADD(api, ipv6) {
	.family = AF_INET6,
};

/* 0 once @events are pending on @fd, -ETIMEDOUT after IO_TIMEOUT_MS */
static int wait_fd(int fd, short events)
{
	return tr_poll(fd, events, tr_now_ms() + IO_TIMEOUT_MS);
}

/* The calls under test, at the TCP level, their errno as it is */
static int set_int(int fd, int opt, int val)
{
	return tr_sockopt_set(fd, SOL_TCP, opt, val);
}

static int get_int(int fd, int opt)
{
	return tr_sockopt_get(fd, SOL_TCP, opt);
}

static int set_buf(int fd, int opt, const void *buf, socklen_t len)
{
	return setsockopt(fd, IPPROTO_TCP, opt, buf, len) ? -errno : 0;
}

static int get_window(int fd, struct tcp_repair_window *w, socklen_t len)
{
	return getsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, w, &len) ?
	       -errno : 0;
}

static int set_opt(int fd, __u32 code, __u32 val)
{
	struct tcp_repair_opt opt = { .opt_code = code, .opt_val = val };

	return set_buf(fd, TCP_REPAIR_OPTIONS, &opt, sizeof(opt));
}

/* A new connection to @listener: returns the accepted end */
static int connect_to(struct __test_metadata *_metadata, int listener,
		      int *cli)
{
	int srv;

	ASSERT_EQ(0, tr_connect_to(listener, -1, NULL, 0, cli, &srv));
	return srv;
}

/* The connection carries data both ways */
static void check_data(struct __test_metadata *_metadata, int a, int b)
{
	ASSERT_EQ(0, tr_exchange(a, b, 3000, 'a'));
}

FIXTURE_SETUP(api)
{
	struct sockaddr_storage ss;
	int err;

	self->listener = -1;
	self->cli = -1;
	self->srv = -1;

	err = tr_ns_unshare();
	if (tr_skip_reason(err))
		SKIP(return, "%s", tr_skip_reason(err));
	ASSERT_EQ(0, err);

	tr_addr_loopback(variant->family, 0, &ss);
	self->listener = tr_listen(-1, &ss, -1);
	if (tr_skip_reason(self->listener))
		SKIP(return, "%s", tr_skip_reason(self->listener));
	ASSERT_LE(0, self->listener);

	self->srv = connect_to(_metadata, self->listener, &self->cli);
}

FIXTURE_TEARDOWN(api)
{
	if (self->srv >= 0)
		close(self->srv);
	if (self->cli >= 0)
		close(self->cli);
	if (self->listener >= 0)
		close(self->listener);
}

static const int bad_repair[] = { 2, -2, INT_MAX, INT_MIN };

/* Any value but ON, OFF and OFF_NO_WP, or a short option: EINVAL */
TEST_F(api, repair_invalid_values)
{
	int one = TCP_REPAIR_ON, off = TCP_REPAIR_OFF;
	socklen_t len;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_repair); i++) {
		EXPECT_EQ(-EINVAL, set_int(self->cli, TCP_REPAIR,
					   bad_repair[i])) {
			TH_LOG("value %d", bad_repair[i]);
		}
		EXPECT_EQ(0, get_int(self->cli, TCP_REPAIR));
	}
	for (len = 0; len < sizeof(int); len++) {
		EXPECT_EQ(-EINVAL, set_buf(self->cli, TCP_REPAIR, &one, len)) {
			TH_LOG("optlen %u", len);
		}
		EXPECT_EQ(0, get_int(self->cli, TCP_REPAIR));
	}

	/* In repair mode: still on, and the queue selection is kept */
	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_ON));
	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE));
	for (i = 0; i < ARRAY_SIZE(bad_repair); i++) {
		EXPECT_EQ(-EINVAL, set_int(self->cli, TCP_REPAIR,
					   bad_repair[i])) {
			TH_LOG("value %d in repair mode", bad_repair[i]);
		}
		EXPECT_EQ(1, get_int(self->cli, TCP_REPAIR));
		EXPECT_EQ(TCP_SEND_QUEUE, get_int(self->cli, TCP_REPAIR_QUEUE));
	}
	for (len = 0; len < sizeof(int); len++) {
		EXPECT_EQ(-EINVAL, set_buf(self->cli, TCP_REPAIR, &off, len)) {
			TH_LOG("optlen %u in repair mode", len);
		}
		EXPECT_EQ(1, get_int(self->cli, TCP_REPAIR));
	}
	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_OFF));
	ASSERT_EQ(0, get_int(self->cli, TCP_REPAIR));

	check_data(_metadata, self->cli, self->srv);
}

/* A listener is refused before the value is looked at */
TEST_F(api, repair_on_listener)
{
	static const int vals[] = {
		TCP_REPAIR_ON, TCP_REPAIR_OFF, TCP_REPAIR_OFF_NO_WP, 2,
	};
	int cli, srv;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		EXPECT_EQ(-EPERM, set_int(self->listener, TCP_REPAIR, vals[i])) {
			TH_LOG("value %d", vals[i]);
		}
		EXPECT_EQ(0, get_int(self->listener, TCP_REPAIR));
	}

	srv = connect_to(_metadata, self->listener, &cli);
	check_data(_metadata, cli, srv);
	close(srv);
	close(cli);
}

struct unpriv_result {
	int unshare_err;
	int on;			/* TCP_REPAIR_ON, socket out of repair mode */
	int invalid;		/* an invalid value, same socket */
	int state_out;		/* TCP_REPAIR read back */
	int off;		/* TCP_REPAIR_OFF, socket in repair mode */
	int off_no_wp;		/* TCP_REPAIR_OFF_NO_WP, same socket */
	int state_in;		/* TCP_REPAIR read back */
	int queue;		/* TCP_REPAIR_QUEUE: no privilege needed */
};

static void unpriv_child(int out_fd, int in_fd, pid_t parent, int wfd)
{
	struct unpriv_result r = {};

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(1);

	/* Full capabilities here, none over the socket's network namespace */
	if (unshare(CLONE_NEWUSER)) {
		r.unshare_err = errno;
	} else {
		r.on = set_int(out_fd, TCP_REPAIR, TCP_REPAIR_ON);
		r.invalid = set_int(out_fd, TCP_REPAIR, 2);
		r.state_out = get_int(out_fd, TCP_REPAIR);
		r.off = set_int(in_fd, TCP_REPAIR, TCP_REPAIR_OFF);
		r.off_no_wp = set_int(in_fd, TCP_REPAIR, TCP_REPAIR_OFF_NO_WP);
		r.state_in = get_int(in_fd, TCP_REPAIR);
		r.queue = set_int(in_fd, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE);
	}
	_exit(write(wfd, &r, sizeof(r)) == sizeof(r) ? 0 : 1);
}

/* No CAP_NET_ADMIN over the netns: EPERM, whatever the value */
TEST_F(api, repair_unprivileged)
{
	struct unpriv_result r;
	pid_t pid, parent = getpid();
	int pipefd[2], status;

	/* srv out of repair mode, cli in repair mode */
	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_ON));
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pipefd[0]);
		unpriv_child(self->srv, self->cli, parent, pipefd[1]);
	}
	close(pipefd[1]);
	memset(&r, 0, sizeof(r));
	EXPECT_EQ((ssize_t)sizeof(r), read(pipefd[0], &r, sizeof(r)));
	close(pipefd[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	if (r.unshare_err == EINVAL || r.unshare_err == EPERM ||
	    r.unshare_err == ENOSPC)
		SKIP(return, "unshare(CLONE_NEWUSER): %s (errno %d)",
		     strerror(r.unshare_err), r.unshare_err);
	ASSERT_EQ(0, r.unshare_err);

	EXPECT_EQ(-EPERM, r.on);
	EXPECT_EQ(-EPERM, r.invalid);
	EXPECT_EQ(0, r.state_out);
	EXPECT_EQ(-EPERM, r.off);
	EXPECT_EQ(-EPERM, r.off_no_wp);
	EXPECT_EQ(1, r.state_in);
	EXPECT_EQ(0, r.queue);

	/* Unchanged for the privileged owner */
	EXPECT_EQ(0, get_int(self->srv, TCP_REPAIR));
	EXPECT_EQ(1, get_int(self->cli, TCP_REPAIR));
	EXPECT_EQ(TCP_RECV_QUEUE, get_int(self->cli, TCP_REPAIR_QUEUE));
	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_OFF));
	check_data(_metadata, self->cli, self->srv);
}

/* The repair-only options on a socket not in repair mode */
static void check_outside_repair(struct __test_metadata *_metadata, int fd)
{
	struct tcp_repair_opt opt = { .opt_code = OPT_MSS, .opt_val = 1000 };
	struct tcp_repair_window w = {};

	EXPECT_EQ(-EPERM, set_int(fd, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE));
	EXPECT_EQ(-EPERM, set_buf(fd, TCP_REPAIR_WINDOW, &w, sizeof(w)));
	EXPECT_EQ(-EINVAL, set_buf(fd, TCP_REPAIR_OPTIONS, &opt, sizeof(opt)));
	EXPECT_EQ(-EPERM, set_int(fd, TCP_TIMESTAMP, 1000));
	EXPECT_EQ(-EINVAL, get_int(fd, TCP_REPAIR_QUEUE));
	EXPECT_EQ(-EPERM, get_window(fd, &w, sizeof(w)));
	EXPECT_EQ(-EINVAL, get_int(fd, TCP_QUEUE_SEQ));
	EXPECT_EQ(0, get_int(fd, TCP_REPAIR));
}

TEST_F(api, outside_repair_connected)
{
	/* The state is checked, not repair mode */
	EXPECT_EQ(-EPERM, set_int(self->cli, TCP_QUEUE_SEQ, 12345));
	check_outside_repair(_metadata, self->cli);
	check_data(_metadata, self->cli, self->srv);
}

TEST_F(api, outside_repair_fresh)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, srv;

	fd = tr_ns_socket(-1, variant->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	/* TCP_CLOSE, and no queue can have been selected */
	EXPECT_EQ(-EINVAL, set_int(fd, TCP_QUEUE_SEQ, 12345));
	check_outside_repair(_metadata, fd);

	len = sizeof(ss);
	ASSERT_EQ(0, getsockname(self->listener, (struct sockaddr *)&ss, &len));
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, wait_fd(self->listener, POLLIN));
	srv = accept4(self->listener, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_LE(0, srv);
	check_data(_metadata, fd, srv);
	close(srv);
	close(fd);
}

TEST_F(api, repair_queue_out_of_range)
{
	static const int bad[] = { TCP_QUEUES_NR, -1, 100, INT_MIN };
	int q = TCP_RECV_QUEUE;
	size_t i;

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_ON));
	EXPECT_EQ(TCP_NO_QUEUE, get_int(self->cli, TCP_REPAIR_QUEUE));
	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE));

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, set_int(self->cli, TCP_REPAIR_QUEUE, bad[i])) {
			TH_LOG("queue %d", bad[i]);
		}
		EXPECT_EQ(TCP_SEND_QUEUE, get_int(self->cli, TCP_REPAIR_QUEUE));
	}
	EXPECT_EQ(-EINVAL, set_buf(self->cli, TCP_REPAIR_QUEUE, &q, 2));
	EXPECT_EQ(TCP_SEND_QUEUE, get_int(self->cli, TCP_REPAIR_QUEUE));

	/* Every valid one is accepted; TCP_REPAIR_ON resets the selection */
	for (q = TCP_NO_QUEUE; q < TCP_QUEUES_NR; q++) {
		EXPECT_EQ(0, set_int(self->cli, TCP_REPAIR_QUEUE, q)) {
			TH_LOG("queue %d", q);
		}
		EXPECT_EQ(q, get_int(self->cli, TCP_REPAIR_QUEUE));
	}
	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_ON));
	EXPECT_EQ(TCP_NO_QUEUE, get_int(self->cli, TCP_REPAIR_QUEUE));

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_OFF));
	check_data(_metadata, self->cli, self->srv);
}

static const socklen_t bad_window_len[] = {
	sizeof(struct tcp_repair_window) - 1,
	sizeof(struct tcp_repair_window) + 4,
	0,
};

TEST_F(api, window_bad_length)
{
	struct tcp_repair_window w, r, buf[2] = {};
	socklen_t len;
	size_t i;

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_ON));
	ASSERT_EQ(0, get_window(self->cli, &w, sizeof(w)));

	for (i = 0; i < ARRAY_SIZE(bad_window_len); i++) {
		len = bad_window_len[i];
		buf[0] = w;
		buf[0].snd_wnd = w.snd_wnd / 2;
		EXPECT_EQ(-EINVAL, set_buf(self->cli, TCP_REPAIR_WINDOW, buf,
					   len)) {
			TH_LOG("setting, optlen %u", len);
		}
		memset(buf, 0, sizeof(buf));
		EXPECT_EQ(-EINVAL, get_window(self->cli, buf, len)) {
			TH_LOG("getting, optlen %u", len);
		}
		EXPECT_EQ(0, get_window(self->cli, &r, sizeof(r)));
		EXPECT_EQ(0, memcmp(&w, &r, sizeof(w)));
	}
	len = -1;
	EXPECT_EQ(-1, getsockopt(self->cli, IPPROTO_TCP, TCP_REPAIR_WINDOW, buf,
				 &len));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_OFF));

	/* Out of repair mode, setting checks the mode first, getting last */
	for (i = 0; i < ARRAY_SIZE(bad_window_len); i++) {
		len = bad_window_len[i];
		EXPECT_EQ(len < sizeof(int) ? -EINVAL : -EPERM,
			  set_buf(self->cli, TCP_REPAIR_WINDOW, buf, len)) {
			TH_LOG("setting, optlen %u", len);
		}
		EXPECT_EQ(-EINVAL, get_window(self->cli, buf, len)) {
			TH_LOG("getting, optlen %u", len);
		}
	}

	check_data(_metadata, self->cli, self->srv);
}

TEST_F(api, window_inconsistent)
{
	struct tcp_repair_window w, bad, r;
	__u32 rcv_nxt;
	int seq;

	/* Nothing received, nothing to acknowledge: the window stays put */
	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_ON));
	ASSERT_EQ(0, get_window(self->cli, &w, sizeof(w)));
	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE));
	errno = 0;
	seq = get_int(self->cli, TCP_QUEUE_SEQ);
	ASSERT_EQ(0, errno);
	rcv_nxt = seq;
	ASSERT_LT(0U, w.max_window);

	/* max_window < snd_wnd */
	bad = w;
	bad.snd_wnd = w.max_window + 1;
	EXPECT_EQ(-EINVAL, set_buf(self->cli, TCP_REPAIR_WINDOW, &bad,
				   sizeof(bad)));
	EXPECT_EQ(0, get_window(self->cli, &r, sizeof(r)));
	EXPECT_EQ(0, memcmp(&w, &r, sizeof(w)));

	/* snd_wl1 after rcv_nxt + rcv_wnd */
	bad = w;
	bad.snd_wl1 = rcv_nxt + w.rcv_wnd + 1;
	EXPECT_EQ(-EINVAL, set_buf(self->cli, TCP_REPAIR_WINDOW, &bad,
				   sizeof(bad)));
	EXPECT_EQ(0, get_window(self->cli, &r, sizeof(r)));
	EXPECT_EQ(0, memcmp(&w, &r, sizeof(w)));

	/* rcv_wup after rcv_nxt */
	bad = w;
	bad.rcv_wup = rcv_nxt + 1;
	EXPECT_EQ(-EINVAL, set_buf(self->cli, TCP_REPAIR_WINDOW, &bad,
				   sizeof(bad)));
	EXPECT_EQ(0, get_window(self->cli, &r, sizeof(r)));
	EXPECT_EQ(0, memcmp(&w, &r, sizeof(w)));

	/* The window just read is consistent */
	EXPECT_EQ(0, set_buf(self->cli, TCP_REPAIR_WINDOW, &w, sizeof(w)));
	EXPECT_EQ(0, get_window(self->cli, &r, sizeof(r)));
	EXPECT_EQ(0, memcmp(&w, &r, sizeof(w)));

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_OFF));
	check_data(_metadata, self->cli, self->srv);
}

/* Window scales, SACK and timestamps as TCP_INFO reports them */
static void expect_same_options(struct __test_metadata *_metadata, int fd,
				const struct tcp_info *before)
{
	struct tcp_info ti;

	ASSERT_EQ(0, tr_tcp_info(fd, &ti));
	EXPECT_EQ(before->tcpi_options, ti.tcpi_options);
	EXPECT_EQ((int)before->tcpi_snd_wscale, (int)ti.tcpi_snd_wscale);
	EXPECT_EQ((int)before->tcpi_rcv_wscale, (int)ti.tcpi_rcv_wscale);
}

/* Established, nothing sent yet: TCP_REPAIR_OPTIONS applies */
TEST_F(api, options_unknown_code)
{
	static const struct tcp_repair_opt unknown[] = {
		{ .opt_code = 0, .opt_val = 1 },	/* TCPOPT_EOL */
		{ .opt_code = 1, .opt_val = 1 },	/* TCPOPT_NOP */
		{ .opt_code = 5, .opt_val = 1 },	/* TCPOPT_SACK */
		{ .opt_code = 99, .opt_val = 1000 },
		{ .opt_code = UINT32_MAX, .opt_val = UINT32_MAX },
	};
	struct tcp_info ti;
	int mss;

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_ON));
	ASSERT_EQ(0, tr_tcp_info(self->cli, &ti));
	mss = get_int(self->cli, TCP_MAXSEG);
	ASSERT_LT(0, mss);

	/* Ignored, without an error */
	EXPECT_EQ(0, set_buf(self->cli, TCP_REPAIR_OPTIONS, unknown,
			     sizeof(unknown)));
	EXPECT_EQ(mss, get_int(self->cli, TCP_MAXSEG));
	expect_same_options(_metadata, self->cli, &ti);

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_OFF));
	check_data(_metadata, self->cli, self->srv);
}

TEST_F(api, options_trailing_bytes)
{
	struct tcp_repair_opt buf[2];
	socklen_t len;
	int mss;

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_ON));
	mss = get_int(self->cli, TCP_MAXSEG);
	ASSERT_LT(100, mss);

	/* A whole entry and a part of one: the part is ignored */
	memset(buf, 0xff, sizeof(buf));
	buf[0].opt_code = OPT_MSS;
	buf[0].opt_val = mss - 8;
	for (len = sizeof(buf[0]) + 1; len < sizeof(buf); len++) {
		EXPECT_EQ(0, set_buf(self->cli, TCP_REPAIR_OPTIONS, buf, len)) {
			TH_LOG("optlen %u", len);
		}
		EXPECT_EQ(mss - 8, get_int(self->cli, TCP_MAXSEG));
	}

	/* Less than one entry does nothing, less than an int is EINVAL */
	buf[0].opt_val = mss - 16;
	for (len = sizeof(int); len < sizeof(buf[0]); len++) {
		EXPECT_EQ(0, set_buf(self->cli, TCP_REPAIR_OPTIONS, buf, len)) {
			TH_LOG("optlen %u", len);
		}
		EXPECT_EQ(mss - 8, get_int(self->cli, TCP_MAXSEG));
	}
	for (len = 0; len < sizeof(int); len++) {
		EXPECT_EQ(-EINVAL, set_buf(self->cli, TCP_REPAIR_OPTIONS, buf,
					   len)) {
			TH_LOG("optlen %u", len);
		}
		EXPECT_EQ(mss - 8, get_int(self->cli, TCP_MAXSEG));
	}

	EXPECT_EQ(0, set_opt(self->cli, OPT_MSS, mss));
	EXPECT_EQ(mss, get_int(self->cli, TCP_MAXSEG));
	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_OFF));
	check_data(_metadata, self->cli, self->srv);
}

TEST_F(api, options_wscale_too_big)
{
	struct tcp_info ti;
	__u32 cur;

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_ON));
	ASSERT_EQ(0, tr_tcp_info(self->cli, &ti));
	ASSERT_TRUE(ti.tcpi_options & TCPI_OPT_WSCALE);

	/* Low 16 bits: send window scale, high 16 bits: receive */
	EXPECT_EQ(-EFBIG, set_opt(self->cli, OPT_WINDOW, MAX_WSCALE + 1));
	expect_same_options(_metadata, self->cli, &ti);
	EXPECT_EQ(-EFBIG, set_opt(self->cli, OPT_WINDOW,
				  (MAX_WSCALE + 1) << 16));
	expect_same_options(_metadata, self->cli, &ti);
	EXPECT_EQ(-EFBIG, set_opt(self->cli, OPT_WINDOW, UINT32_MAX));
	expect_same_options(_metadata, self->cli, &ti);

	/* The negotiated values are accepted */
	cur = ti.tcpi_snd_wscale | ti.tcpi_rcv_wscale << 16;
	EXPECT_EQ(0, set_opt(self->cli, OPT_WINDOW, cur));
	expect_same_options(_metadata, self->cli, &ti);

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_OFF));
	check_data(_metadata, self->cli, self->srv);
}

TEST_F(api, options_bad_flag_values)
{
	struct tcp_info ti;

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_ON));
	ASSERT_EQ(0, tr_tcp_info(self->cli, &ti));

	/* SACK permitted and timestamps take no value */
	EXPECT_EQ(-EINVAL, set_opt(self->cli, OPT_SACK_PERM, 1));
	expect_same_options(_metadata, self->cli, &ti);
	EXPECT_EQ(-EINVAL, set_opt(self->cli, OPT_TIMESTAMP, 1));
	expect_same_options(_metadata, self->cli, &ti);

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_OFF));
	check_data(_metadata, self->cli, self->srv);
}

/* The MSS is not validated: 0 is taken as the clamp */
TEST_F(api, options_mss_zero)
{
	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_ON));
	ASSERT_LT(0, get_int(self->cli, TCP_MAXSEG));

	EXPECT_EQ(0, set_opt(self->cli, OPT_MSS, 0));
	EXPECT_EQ(0, get_int(self->cli, TCP_MAXSEG));

	/* The send MSS stays above net.ipv4.tcp_min_snd_mss */
	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_OFF));
	EXPECT_LT(0, get_int(self->cli, TCP_MAXSEG));
	check_data(_metadata, self->cli, self->srv);
}

/* Only an established socket that has not sent data takes options */
TEST_F(api, options_wrong_state)
{
	static const struct tcp_repair_opt nop = { .opt_code = 99 };
	struct tcp_info ti;
	char c;
	int fd;

	fd = tr_ns_socket(-1, variant->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_int(fd, TCP_REPAIR, TCP_REPAIR_ON));
	EXPECT_EQ(-EPERM, set_buf(fd, TCP_REPAIR_OPTIONS, &nop, sizeof(nop)));
	close(fd);

	/* Data sent by cli, not by srv: ACKs are no data */
	ASSERT_EQ(1, send(self->cli, "x", 1, MSG_NOSIGNAL));
	ASSERT_EQ(1, tr_recv_all(self->srv, &c, 1, IO_TIMEOUT_MS));
	ASSERT_EQ(0, tr_tcp_info(self->cli, &ti));
	EXPECT_EQ(1ULL, ti.tcpi_bytes_sent);
	ASSERT_EQ(0, tr_tcp_info(self->srv, &ti));
	EXPECT_EQ(0ULL, ti.tcpi_bytes_sent);

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_ON));
	EXPECT_EQ(-EPERM, set_buf(self->cli, TCP_REPAIR_OPTIONS, &nop,
				  sizeof(nop)));
	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_OFF));

	ASSERT_EQ(0, set_int(self->srv, TCP_REPAIR, TCP_REPAIR_ON));
	EXPECT_EQ(0, set_buf(self->srv, TCP_REPAIR_OPTIONS, &nop,
			     sizeof(nop)));
	ASSERT_EQ(0, set_int(self->srv, TCP_REPAIR, TCP_REPAIR_OFF));

	check_data(_metadata, self->cli, self->srv);
}

/* recv() needs MSG_PEEK and a queue, send() a queue; nothing is consumed */
TEST_F(api, recv_send_in_repair)
{
	char buf[16];
	int q;

	ASSERT_EQ(5, send(self->srv, "hello", 5, MSG_NOSIGNAL));
	ASSERT_EQ(0, wait_fd(self->cli, POLLIN));

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_ON));
	ASSERT_EQ(TCP_NO_QUEUE, get_int(self->cli, TCP_REPAIR_QUEUE));
	EXPECT_EQ(-1, recv(self->cli, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, recv(self->cli, buf, sizeof(buf),
			   MSG_PEEK | MSG_DONTWAIT));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, send(self->cli, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL));
	EXPECT_EQ(EINVAL, errno);

	for (q = TCP_RECV_QUEUE; q < TCP_QUEUES_NR; q++) {
		ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR_QUEUE, q));
		EXPECT_EQ(-1, recv(self->cli, buf, sizeof(buf), MSG_DONTWAIT));
		EXPECT_EQ(EPERM, errno);
	}

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE));
	EXPECT_EQ(5, recv(self->cli, buf, sizeof(buf),
			  MSG_PEEK | MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));

	ASSERT_EQ(0, set_int(self->cli, TCP_REPAIR, TCP_REPAIR_OFF));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, tr_recv_all(self->cli, buf, 5, IO_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	check_data(_metadata, self->cli, self->srv);
}

TEST_HARNESS_MAIN
