/*
 * frame.h: the test frame of tests/common/mod.rs, for the C tests
 * (tests/c/harness.h) and the libxdp differential programs
 * (tests/compat/common.h), which build against different libraries: a
 * unicast Ethernet header with TEST_ETHERTYPE, a big-endian sequence number,
 * then a payload that depends on the sequence number, so that a frame
 * delivered under the wrong number, or with a stale tail, is seen.
 */
#ifndef XSK_RS_TEST_FRAME_H
#define XSK_RS_TEST_FRAME_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#define TEST_ETHERTYPE 0x88B5
#define TEST_HDR_LEN 18 /* Ethernet header + 4-byte sequence number */

static const uint8_t dst_mac[6] = { 0x02, 0x58, 0x53, 0x4b, 0x00, 0x02 };
static const uint8_t src_mac[6] = { 0x02, 0x58, 0x53, 0x4b, 0x00, 0x01 };

static inline void make_frame(uint8_t *buf, uint32_t seq, uint32_t len)
{
	uint32_t be = htonl(seq);
	uint16_t et = htons(TEST_ETHERTYPE);

	memcpy(buf, dst_mac, 6);
	memcpy(buf + 6, src_mac, 6);
	memcpy(buf + 12, &et, 2);
	memcpy(buf + 14, &be, 4);
	for (uint32_t i = 0; i + TEST_HDR_LEN < len; i++)
		buf[TEST_HDR_LEN + i] = (uint8_t)(seq * 131u + i * 7u + 1u);
}

static inline uint32_t frame_seq(const uint8_t *f)
{
	uint32_t be;

	memcpy(&be, f + 14, 4);
	return ntohl(be);
}

#endif
