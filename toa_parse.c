// SPDX-License-Identifier: GPL-2.0
/*
 * Walks TCP options the way tcp_parse_options() does: every length is checked
 * against what is left before a byte of the option is read.
 */
#include "toa_parse.h"
#include "toa_uapi.h"

/*
 * No proxy sends these as a client's address: the unspecified address,
 * loopback, link-local, multicast and broadcast. Passing one on would make a
 * remote client look local to localhost-only services, or hide the proxy.
 */
static bool toa_ip4_usable(const u8 *ip4)
{
	if (!memcmp(ip4, "\0\0\0\0", 4) || !memcmp(ip4, "\xff\xff\xff\xff", 4))
		return false;
	return ip4[0] != 127 &&				/* 127.0.0.0/8 */
	       !(ip4[0] == 169 && ip4[1] == 254) &&	/* 169.254.0.0/16 */
	       (ip4[0] & 0xf0) != 0xe0;			/* 224.0.0.0/4 */
}

/* The IPv4-mapped (::ffff:0:0/96) and IPv4-compatible (::/96) forms too. */
static bool toa_ip6_usable(const u8 *ip6)
{
	static const u8 zero[10];

	if (ip6[0] == 0xff)				/* ff00::/8 */
		return false;
	if (ip6[0] == 0xfe && (ip6[1] & 0xc0) == 0x80)	/* fe80::/10 */
		return false;
	if (memcmp(ip6, zero, sizeof(zero)))
		return true;
	if (ip6[10] == 0xff && ip6[11] == 0xff)
		return toa_ip4_usable(ip6 + 12);
	if (ip6[10] || ip6[11])
		return true;
	/* ::1 is loopback, not the compatible form of 0.0.0.1. */
	if (!memcmp(ip6 + 12, "\0\0\0\1", 4))
		return false;
	return toa_ip4_usable(ip6 + 12);
}

static bool toa_addr_usable(const struct toa_addr *a)
{
	if (!a->port)
		return false;
	if (a->family == TOA_IPV4)
		return toa_ip4_usable((const u8 *)&a->ip4);
	return toa_ip6_usable(a->ip6);
}

static bool toa_option(const u8 *opt, u8 size, bool syn, struct toa_addr *out)
{
	struct toa_addr a = { 0 };

	if (size != TOA_OPT_LEN_IP4 && size != TOA_OPT_LEN_IP6)
		return false;
	if (syn && opt[0] == TOA_OPT_TFO_KIND &&
	    opt[2] == (TOA_TFO_EXP_MAGIC >> 8) &&
	    opt[3] == (TOA_TFO_EXP_MAGIC & 0xff))
		return false;

	memcpy(&a.port, opt + 2, sizeof(a.port));
	if (size == TOA_OPT_LEN_IP4) {
		a.family = TOA_IPV4;
		memcpy(&a.ip4, opt + 4, sizeof(a.ip4));
	} else {
		a.family = TOA_IPV6;
		memcpy(a.ip6, opt + 4, sizeof(a.ip6));
	}
	if (!toa_addr_usable(&a))
		return false;
	*out = a;
	return true;
}

enum toa_family toa_parse(const u8 *opt, unsigned int len, bool syn,
			  const struct toa_kinds *kinds, struct toa_addr *out)
{
	while (len > 0) {
		u8 kind = opt[0];
		u8 size;

		if (kind == TOA_OPT_EOL)
			break;
		if (kind == TOA_OPT_NOP) {
			opt++;
			len--;
			continue;
		}
		if (len < 2)
			break;
		size = opt[1];
		if (size < 2 || size > len)
			break;
		if (toa_kinds_has(kinds, kind) && toa_option(opt, size, syn, out))
			return out->family;
		opt += size;
		len -= size;
	}
	return TOA_NONE;
}
