#include <string.h>
#include "fixture.h"

int fx_config_init(fx_config *cfg, size_t sz)
{
	memset(cfg, 0, sz);
	cfg->sz = sz;
	return 0;
}

#ifdef CHANGE_RET
int64_t fx_desc_len(const fx_desc *desc)
#else
int fx_desc_len(const fx_desc *desc)
#endif
{
	return (int)desc->len;
}

int fx_pkt_len(const fx_pkt *pkt)
{
	return (int)pkt->len;
}

#ifndef REMOVE_FN
int fx_old(void)
{
	return 1;
}
#endif

#ifdef ADD_FN
int fx_new(void)
{
	return 2;
}
#endif

#ifdef CHANGE_PARAM
int fx_param(int64_t x)
#else
int fx_param(int x)
#endif
{
	return (int)x;
}
