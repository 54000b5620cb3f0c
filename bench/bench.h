/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TCP_REPAIR benchmarks: timing and statistics here (stats.c); the
 * namespaces, connections, rtnetlink requests and the repair-mode dump
 * and restore are the selftests' library
 * (tools/testing/selftests/net/tcp_repair/lib), the same code the suite
 * tests.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "tcp_repair.h"

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
uint64_t now_ns(void);
void raise_nofile(unsigned long n);

struct stats {
	size_t n;
	double min, median, p99, max;	/* microseconds */
};

/* Sorts v (nanoseconds) in place; nearest-rank median and p99. */
void stats_of(uint64_t *v, size_t n, struct stats *s);

#endif
