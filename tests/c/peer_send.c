/*
 * peer_send: sends numbered test frames (EtherType 0x88B5, the layout of
 * abi_test.c and tests/common/mod.rs) out of an interface with an AF_PACKET
 * socket, in the caller's network namespace. run.sh uses it to feed the
 * README example.
 *
 *   peer_send IFNAME COUNT [LEN [INTERVAL_MS]]
 */
#define _GNU_SOURCE /* nanosleep with -std=c11 */

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const uint8_t hdr[14] = { 0x02, 0x58, 0x53, 0x4b, 0x00, 0x02, 0x02, 0x58,
					 0x53, 0x4b, 0x00, 0x01, 0x88, 0xB5 };
	struct sockaddr_ll sll;
	uint8_t frame[1500];
	unsigned count, len, interval_ms, ifindex;
	int fd;

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
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "peer_send: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("peer_send: AF_PACKET socket");
		return 1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		perror("peer_send: bind");
		return 1;
	}
	for (unsigned seq = 0; seq < count; seq++) {
		uint32_t be = htonl(seq);

		memcpy(frame, hdr, sizeof(hdr));
		memcpy(frame + 14, &be, 4);
		for (unsigned i = 0; i < len - 18; i++)
			frame[18 + i] = (uint8_t)(seq * 131u + i * 7u + 1u);
		if (send(fd, frame, len, 0) != (ssize_t)len) {
			perror("peer_send: send");
			return 1;
		}
		if (interval_ms) {
			struct timespec ts = { .tv_sec = interval_ms / 1000,
					       .tv_nsec = (long)(interval_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	close(fd);
	return 0;
}
