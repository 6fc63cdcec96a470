/*
 * clock.h: milliseconds on the monotonic clock, for the C tests
 * (tests/c/harness.h) and the libxdp differential programs
 * (tests/compat/common.h), which build against different libraries.
 */
#ifndef XSK_RS_TEST_CLOCK_H
#define XSK_RS_TEST_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

#endif
