/*
 * peer_send: sends numbered test frames (EtherType 0x88B5, the layout of
 * harness.h and tests/common/mod.rs) out of an interface with an AF_PACKET
 * socket, in the caller's network namespace. run.sh uses it to feed the
 * README example, tests/reach to feed the examples and bindings.
 *
 *   peer_send IFNAME COUNT [LEN [INTERVAL_MS]]
 *
 * Every frame is LEN bytes (60..1500, default 100). Exits 0 when all were
 * sent, 1 when a send failed, 2 for bad usage or an interface it cannot open.
 */
#define _GNU_SOURCE /* nanosleep, setns with -std=c11 */
#include "harness.h"

int main(int argc, char **argv)
{
	uint8_t frame[MAX_FRAME];
	unsigned count, len, interval_ms;
	int fd;

	harness_name = "peer_send";
	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: %s IFNAME COUNT [LEN [INTERVAL_MS]]\n", argv[0]);
		return 2;
	}
	count = (unsigned)strtoul(argv[2], NULL, 0);
	len = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 0) : 100;
	interval_ms = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 0) : 0;
	if (len < 60 || len > sizeof(frame)) {
		fprintf(stderr, "peer_send: LEN must be 60..%zu\n", sizeof(frame));
		return 2;
	}
	/* Sends only: a small receive buffer is enough. */
	fd = peer_open(argv[1], 1 << 16);
	for (unsigned seq = 0; seq < count; seq++) {
		make_frame(frame, seq, len);
		if (send(fd, frame, len, 0) != (ssize_t)len) {
			perror("peer_send: send");
			return 1;
		}
		if (interval_ms)
			sleep_ms(interval_ms);
	}
	close(fd);
	return 0;
}
