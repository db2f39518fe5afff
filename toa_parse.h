/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TOA option parser: pure functions over bytes, no kernel state, so the
 * same file builds into the module and into the user-space tests and fuzzer.
 */
#ifndef TOA_PARSE_H
#define TOA_PARSE_H

#ifdef __KERNEL__
#include <linux/string.h>
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>
typedef __u8 u8;
typedef __u32 u32;
#endif

/*
 * TCP's own option kinds the parser walks over, and Fast Open's experimental
 * option (RFC 7413), which shares kind 254 with TOA. The kernel's names for
 * them (TCPOPT_*) are not visible to user space: toa_main.c checks that both
 * agree.
 */
#define TOA_OPT_EOL		0
#define TOA_OPT_NOP		1
#define TOA_OPT_TFO_KIND	254
#define TOA_TFO_EXP_MAGIC	0xF989

enum toa_family {
	TOA_NONE,
	TOA_IPV4,
	TOA_IPV6,
};

struct toa_addr {
	__be16 port;
	u8 family;		/* enum toa_family */
	union {
		__be32 ip4;
		u8 ip6[16];
	};
};

/* The set of option kinds accepted as TOA, one bit per kind. */
struct toa_kinds {
	u32 bits[256 / 32];
};

static inline void toa_kinds_add(struct toa_kinds *kinds, u8 kind)
{
	kinds->bits[kind / 32] |= 1U << (kind % 32);
}

static inline bool toa_kinds_has(const struct toa_kinds *kinds, u8 kind)
{
	return kinds->bits[kind / 32] & (1U << (kind % 32));
}

/*
 * Finds the first usable TOA option in @len bytes of TCP options at @opt.
 * @syn says whether they come from a SYN, where kind 254 with the Fast Open
 * magic is Fast Open, not TOA. Returns the family found (TOA_NONE if none)
 * and fills @out only then.
 */
enum toa_family toa_parse(const u8 *opt, unsigned int len, bool syn,
			  const struct toa_kinds *kinds, struct toa_addr *out);

#endif /* TOA_PARSE_H */
