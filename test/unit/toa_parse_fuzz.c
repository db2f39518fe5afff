// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for toa_parse(). The first input byte picks the SYN flag
 * and the accepted kinds, the rest is the option area. It is copied to a heap
 * buffer of exactly its size, so that ASan stops any read past its end.
 */
#include <stdlib.h>

#include "toa_parse.h"

enum {
	FUZZ_SYN	= 1 << 0,
	FUZZ_KIND_254	= 1 << 1,
	FUZZ_KIND_253	= 1 << 2,
	FUZZ_KIND_200	= 1 << 3,
	FUZZ_KIND_ALL	= 1 << 4,	/* EOL and NOP included */
};

#define CANARY		0xa5

static void fuzz_kinds(u8 flags, struct toa_kinds *kinds)
{
	memset(kinds, flags & FUZZ_KIND_ALL ? 0xff : 0, sizeof(*kinds));
	if (flags & FUZZ_KIND_254)
		toa_kinds_add(kinds, 254);
	if (flags & FUZZ_KIND_253)
		toa_kinds_add(kinds, 253);
	if (flags & FUZZ_KIND_200)
		toa_kinds_add(kinds, 200);
}

/* The filter, written again from the spec rather than from the parser. */
static bool usable4(const u8 *ip4)
{
	u32 a = (u32)ip4[0] << 24 | ip4[1] << 16 | ip4[2] << 8 | ip4[3];

	return a != 0 &&				/* unspecified */
	       a != 0xffffffff &&			/* broadcast */
	       a >> 24 != 127 &&			/* loopback */
	       a >> 16 != (169 << 8 | 254) &&		/* link-local */
	       (a >> 28) != 0xe;			/* multicast */
}

static bool usable6(const u8 *ip6)
{
	static const u8 v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const u8 v4compat[12];
	static const u8 loopback[16] = { [15] = 1 };

	if (ip6[0] == 0xff)				/* multicast */
		return false;
	if (ip6[0] == 0xfe && ip6[1] >= 0x80 && ip6[1] <= 0xbf)	/* link-local */
		return false;
	if (!memcmp(ip6, loopback, 16))
		return false;
	if (!memcmp(ip6, v4mapped, 12) || !memcmp(ip6, v4compat, 12))
		return usable4(ip6 + 12);		/* :: is 0.0.0.0's */
	return true;
}

static bool usable(const struct toa_addr *a)
{
	if (a->port == 0)
		return false;
	if (a->family == TOA_IPV4)
		return usable4((const u8 *)&a->ip4);
	return usable6(a->ip6);
}

/*
 * What was returned must be an option of the input, whole, of an accepted
 * kind and not Fast Open.
 */
static bool in_input(const u8 *opt, unsigned int len, bool syn,
		     const struct toa_kinds *kinds, const struct toa_addr *a)
{
	unsigned int size = a->family == TOA_IPV4 ? 8 : 20;
	const u8 *port = (const u8 *)&a->port;
	unsigned int i;

	for (i = 0; i + size <= len; i++) {
		if (!toa_kinds_has(kinds, opt[i]) || opt[i + 1] != size ||
		    memcmp(opt + i + 2, port, 2) ||
		    memcmp(opt + i + 4, a->ip6, size - 4))
			continue;
		if (syn && opt[i] == 254 &&
		    port[0] == TOA_TFO_EXP_MAGIC >> 8 &&
		    port[1] == (TOA_TFO_EXP_MAGIC & 0xff))
			continue;
		return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct toa_addr out, canary;
	struct toa_kinds kinds;
	enum toa_family family;
	unsigned int len;
	bool syn;
	u8 *opt;

	if (size < 1)
		return 0;
	syn = data[0] & FUZZ_SYN;
	fuzz_kinds(data[0], &kinds);
	len = size - 1;
	opt = malloc(len);
	if (!opt)
		abort();
	memcpy(opt, data + 1, len);

	memset(&out, CANARY, sizeof(out));
	memset(&canary, CANARY, sizeof(canary));
	family = toa_parse(opt, len, syn, &kinds, &out);
	switch (family) {
	case TOA_NONE:
		if (memcmp(&out, &canary, sizeof(out)))
			abort();
		break;
	case TOA_IPV4:
	case TOA_IPV6:
		if (out.family != family || !usable(&out) ||
		    !in_input(opt, len, syn, &kinds, &out))
			abort();
		break;
	default:
		abort();
	}
	free(opt);
	return 0;
}
