/* xsk_reflect IFNAME [QUEUE [COUNT]]: an L2 reflector on a bi socket of the packet layer. Frames arriving on the
 * queue go back out with their MACs swapped; after COUNT frames (0, the default: never) it exits 0. Prints "ready"
 * on stderr once the socket is up; exits 1 with the library's message on a failure, 2 for bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xsk_rs.h>
#define BATCH 64 /* packets per call */

/* Sends pkts[0..n) back with their MACs swapped; -1 on a failure. */
static int reflect(xsk_rs_txsock *tx, const xsk_rs_pkt *pkts, int n)
{
	xsk_rs_buf bufs[BATCH]; /* TX frames to write into, bufs[i].len bytes each */
	uint32_t lens[BATCH];

	for (int k, j; n > 0; pkts += k, n -= k) {
		if ((k = xsk_rs_txsock_alloc(tx, bufs, (uint32_t)n)) == 0 && xsk_rs_txsock_wait(tx, -1) < 0)
			return -1; /* 0: no free frame; the wait lets the kernel give sent ones back */
		for (int i = j = 0; i < k; i++) {
			if (pkts[i].len < 14 || pkts[i].len > bufs[j].len)
				continue; /* no Ethernet frame, or longer than the interface sends: dropped */
			memcpy(bufs[j].data, pkts[i].data + 6, 6); /* destination := source */
			memcpy(bufs[j].data + 6, pkts[i].data, 6); /* source := destination */
			memcpy(bufs[j].data + 12, pkts[i].data + 12, pkts[i].len - 12);
			lens[j++] = pkts[i].len;
		}
		if (k < 0 || (k > 0 && xsk_rs_txsock_submit(tx, lens, (uint32_t)j) < 0))
			return -1; /* frames allocated and not submitted stay for the next alloc */
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long count = argc > 3 ? strtoul(argv[3], NULL, 0) : 0, done = 0;
	xsk_rs_txsock *tx; /* the halves: 4096 frames each by default; the XDP program steers the queue here */
	xsk_rs_rxsock *rx;
	int rc = 0;

	if (argc < 2 || argc > 4)
		return fprintf(stderr, "usage: %s IFNAME [QUEUE [COUNT]]\n", argv[0]), 2;
	if (xsk_rs_bisock_create(argv[1], argc > 2 ? (uint32_t)atoi(argv[2]) : 0, NULL, &tx, &rx) < 0)
		return fprintf(stderr, "xsk_reflect: %s\n", xsk_rs_last_error()), 1;
	fprintf(stderr, "ready\n");
	for (int n = 0; rc >= 0 && (count == 0 || done < count); done += (unsigned long)(n > 0 ? n : 0)) {
		xsk_rs_pkt pkts[BATCH]; /* received, read in place until released */

		if ((n = xsk_rs_rxsock_recv_batch(rx, pkts, BATCH)) == 0)
			rc = xsk_rs_rxsock_wait(rx, -1);
		else if (n < 0 || reflect(tx, pkts, n) < 0 || xsk_rs_rxsock_release(rx, (uint32_t)n) < 0)
			rc = -1;
	}
	if (rc < 0)
		fprintf(stderr, "xsk_reflect: %s\n", xsk_rs_last_error());
	xsk_rs_txsock_destroy(tx);
	xsk_rs_rxsock_destroy(rx);
	return rc < 0;
}
