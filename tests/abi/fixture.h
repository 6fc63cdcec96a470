/* tests/abi: the library that abi/check.py's own test describes, in
 * variants chosen by -D: each is one change a release could make. */
#include <stddef.h>
#include <stdint.h>

/* Flag bits: compiled into programs, recorded by no DWARF. */
#define FX_FLAG_A (1 << 0)
#define FX_FLAG_B (1 << 1)

/* A config struct of the xsk_rs kind: its own size first. */
typedef struct fx_config {
	size_t sz;
	uint32_t a;
#if defined(NAME_RESERVED)
	uint32_t flags;
#elif defined(RESERVED_TYPE)
	int64_t flags;
#else
	uint32_t reserved;
#endif
#ifdef CHANGE_SZ_FIELD
	uint64_t b;
#else
	uint32_t b;
#endif
#ifdef APPEND_SZ_FIELD
	uint64_t c;
#endif
} fx_config;

/* A struct used in arrays: it can never grow. */
typedef struct fx_desc {
	uint64_t addr;
	uint32_t len;
	uint32_t options;
#ifdef APPEND_DESC_FIELD
	uint64_t extra;
#endif
} fx_desc;

/* A struct with tail padding, which a field could be put into unseen. */
typedef struct fx_pkt {
	uint8_t *data;
	uint32_t len;
#ifdef PAD_FIELD
	uint32_t flags;
#endif
} fx_pkt;

int fx_config_init(fx_config *cfg, size_t sz);
int fx_pkt_len(const fx_pkt *pkt);
#ifdef CHANGE_RET
int64_t fx_desc_len(const fx_desc *desc);
#else
int fx_desc_len(const fx_desc *desc);
#endif
#ifndef REMOVE_FN
int fx_old(void);
#endif
#ifdef ADD_FN
int fx_new(void);
#endif
#ifdef CHANGE_PARAM
int fx_param(int64_t x);
#else
int fx_param(int x);
#endif
