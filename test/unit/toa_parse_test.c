// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of toa_parse() in user space. Every check asserts the exact
 * family, port and address bytes, or that nothing was found and the output
 * was left untouched.
 */
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include "toa_parse.h"

#define OPT_EOL		0
#define OPT_NOP		1
#define OPT_MAX		40	/* the TCP option area */
#define CANARY		0xa5

#define V4(a, b, c, d)	{ 0x1f, 0x90, a, b, c, d }	/* port 8080 */

/* Port and address, as they follow kind and length in a TOA option. */
typedef u8 toa_data[18];

/* 198.51.100.7:50000, usable after any of the cases below. */
static const toa_data good4 = { 0xc3, 0x50, 198, 51, 100, 7 };

/*
 * The data of every option in the length sweep: as IPv4 it reads
 * 32.1.13.184:8080, as IPv6 [2001:db8::1]:8080.
 */
static const u8 payload[OPT_MAX - 2] = {
	0x1f, 0x90, 0x20, 0x01, 0x0d, 0xb8, [17] = 1,
};

static void put_opt(u8 *p, u8 kind, u8 size, const u8 *data)
{
	p[0] = kind;
	p[1] = size;
	memcpy(p + 2, data, size - 2);
}

static u8 toa_size(enum toa_family family)
{
	return family == TOA_IPV4 ? 8 : 20;
}

/* For the failure messages: what was parsed. */
static const char *dump(const u8 *opt, unsigned int len, bool syn)
{
	static char buf[3 * 64 + 32];
	unsigned int i, n;

	n = snprintf(buf, sizeof(buf), "syn=%d len=%u:", syn, len);
	for (i = 0; i < len && i < 64; i++)
		n += snprintf(buf + n, sizeof(buf) - n, " %02x", opt[i]);
	return buf;
}

static void expect_none(struct __test_metadata *_metadata, const u8 *opt,
			unsigned int len, bool syn,
			const struct toa_kinds *kinds)
{
	struct toa_addr out, canary;
	int got;

	memset(&out, CANARY, sizeof(out));
	memset(&canary, CANARY, sizeof(canary));
	got = toa_parse(opt, len, syn, kinds, &out);
	ASSERT_EQ(TOA_NONE, got)
		TH_LOG("%s", dump(opt, len, syn));
	ASSERT_EQ(0, memcmp(&out, &canary, sizeof(out)))
		TH_LOG("output written: %s", dump(opt, len, syn));
}

static void expect_toa(struct __test_metadata *_metadata, const u8 *opt,
		       unsigned int len, bool syn,
		       const struct toa_kinds *kinds,
		       int family, const u8 *data)
{
	struct toa_addr out;
	int got;

	memset(&out, CANARY, sizeof(out));
	got = toa_parse(opt, len, syn, kinds, &out);
	ASSERT_EQ(family, got)
		TH_LOG("%s", dump(opt, len, syn));
	ASSERT_EQ(family, out.family);
	ASSERT_EQ(0, memcmp(&out.port, data, 2))
		TH_LOG("wrong port: %s", dump(opt, len, syn));
	if (family == TOA_IPV4) {
		ASSERT_EQ(0, memcmp(&out.ip4, data + 2, 4))
			TH_LOG("wrong address: %s", dump(opt, len, syn));
	} else {
		ASSERT_EQ(0, memcmp(out.ip6, data + 2, 16))
			TH_LOG("wrong address: %s", dump(opt, len, syn));
	}
}

/* One usable TOA of each kind and family, and what can go around it. */
FIXTURE(toa) {
	struct toa_kinds kinds;
};

FIXTURE_VARIANT(toa) {
	u8 kind;
	enum toa_family family;
	toa_data a;
	toa_data b;
};

#define TOA_V4_A	V4(192, 0, 2, 1)
#define TOA_V4_B	{ 0xc3, 0x50, 203, 0, 113, 9 }
#define TOA_V6_A	{ 0x1f, 0x90, 0x20, 0x01, 0x0d, 0xb8, [17] = 1 }
#define TOA_V6_B	{ 0xc3, 0x50, 0x20, 0x01, 0x0d, 0xb8, [16] = 0xbe, 0xef }

FIXTURE_VARIANT_ADD(toa, k254_v4) {
	.kind = 254, .family = TOA_IPV4, .a = TOA_V4_A, .b = TOA_V4_B,
};

FIXTURE_VARIANT_ADD(toa, k254_v6) {
	.kind = 254, .family = TOA_IPV6, .a = TOA_V6_A, .b = TOA_V6_B,
};

FIXTURE_VARIANT_ADD(toa, k253_v4) {
	.kind = 253, .family = TOA_IPV4, .a = TOA_V4_A, .b = TOA_V4_B,
};

FIXTURE_VARIANT_ADD(toa, k253_v6) {
	.kind = 253, .family = TOA_IPV6, .a = TOA_V6_A, .b = TOA_V6_B,
};

FIXTURE_SETUP(toa)
{
	toa_kinds_add(&self->kinds, 254);
	toa_kinds_add(&self->kinds, 253);
}

FIXTURE_TEARDOWN(toa)
{
}

TEST_F(toa, valid)
{
	u8 size = toa_size(variant->family);
	u8 opt[OPT_MAX];

	put_opt(opt, variant->kind, size, variant->a);
	expect_toa(_metadata, opt, size, false, &self->kinds,
		   variant->family, variant->a);
	expect_toa(_metadata, opt, size, true, &self->kinds,
		   variant->family, variant->a);
}

TEST_F(toa, past_end)
{
	u8 size = toa_size(variant->family);
	u8 opt[OPT_MAX];
	unsigned int len;

	put_opt(opt, variant->kind, size, variant->a);
	for (len = 0; len < size; len++)
		expect_none(_metadata, opt, len, false, &self->kinds);

	memset(opt, OPT_NOP, 3);
	put_opt(opt + 3, variant->kind, size, variant->a);
	expect_none(_metadata, opt, 3 + size - 1, false, &self->kinds);
	expect_toa(_metadata, opt, 3 + size, false, &self->kinds,
		   variant->family, variant->a);

	/* A length past the area stops the walk: no resync on its data. */
	opt[0] = variant->kind;
	opt[1] = OPT_MAX + 1;
	put_opt(opt + 2, variant->kind, size, variant->a);
	expect_none(_metadata, opt, OPT_MAX, false, &self->kinds);

	/* Past a TOA it is never looked at. */
	put_opt(opt, variant->kind, size, variant->a);
	opt[size] = variant->kind;
	opt[size + 1] = OPT_MAX - size + 1;
	expect_toa(_metadata, opt, OPT_MAX, false, &self->kinds,
		   variant->family, variant->a);
}

TEST_F(toa, after_eol)
{
	u8 size = toa_size(variant->family);
	u8 opt[OPT_MAX];

	opt[0] = OPT_EOL;
	put_opt(opt + 1, variant->kind, size, variant->a);
	expect_none(_metadata, opt, 1 + size, false, &self->kinds);

	opt[0] = OPT_NOP;
	opt[1] = OPT_NOP;
	opt[2] = OPT_EOL;
	put_opt(opt + 3, variant->kind, size, variant->a);
	expect_none(_metadata, opt, 3 + size, false, &self->kinds);

	/* An option of another length, then EOL. */
	put_opt(opt, variant->kind, 4, payload);
	opt[4] = OPT_EOL;
	put_opt(opt + 5, variant->kind, size, variant->a);
	expect_none(_metadata, opt, 5 + size, false, &self->kinds);

	memset(opt, OPT_NOP, sizeof(opt));
	put_opt(opt, variant->kind, size, variant->a);
	opt[size] = OPT_EOL;
	expect_toa(_metadata, opt, OPT_MAX, false, &self->kinds,
		   variant->family, variant->a);
}

TEST_F(toa, nop_run)
{
	u8 size = toa_size(variant->family);
	u8 opt[OPT_MAX];
	unsigned int n;

	for (n = 0; n + size <= OPT_MAX; n++) {
		memset(opt, OPT_NOP, sizeof(opt));
		put_opt(opt + n, variant->kind, size, variant->a);
		expect_toa(_metadata, opt, n + size, false, &self->kinds,
			   variant->family, variant->a);
		expect_toa(_metadata, opt, OPT_MAX, false, &self->kinds,
			   variant->family, variant->a);
	}
	memset(opt, OPT_NOP, sizeof(opt));
	expect_none(_metadata, opt, OPT_MAX, false, &self->kinds);
}

TEST_F(toa, first_wins)
{
	u8 size = toa_size(variant->family);
	u8 opt[OPT_MAX];

	put_opt(opt, variant->kind, size, variant->a);
	put_opt(opt + size, variant->kind, size, variant->b);
	expect_toa(_metadata, opt, 2 * size, false, &self->kinds,
		   variant->family, variant->a);

	put_opt(opt, variant->kind, size, variant->b);
	put_opt(opt + size, variant->kind, size, variant->a);
	expect_toa(_metadata, opt, 2 * size, false, &self->kinds,
		   variant->family, variant->b);
}

TEST_F(toa, first_unusable_skipped)
{
	u8 size = toa_size(variant->family);
	toa_data bad;
	u8 opt[OPT_MAX];

	memcpy(bad, variant->a, sizeof(bad));
	bad[0] = 0;
	bad[1] = 0;
	put_opt(opt, variant->kind, size, bad);
	put_opt(opt + size, variant->kind, size, variant->b);
	expect_toa(_metadata, opt, 2 * size, false, &self->kinds,
		   variant->family, variant->b);

	/* A port, but the unspecified address. */
	memset(bad + 2, 0, sizeof(bad) - 2);
	bad[0] = 0x1f;
	put_opt(opt, variant->kind, size, bad);
	expect_toa(_metadata, opt, 2 * size, false, &self->kinds,
		   variant->family, variant->b);
}

TEST_F(toa, port_zero)
{
	u8 size = toa_size(variant->family);
	toa_data d;
	u8 opt[OPT_MAX];

	memcpy(d, variant->a, sizeof(d));
	d[0] = 0;
	d[1] = 0;
	put_opt(opt, variant->kind, size, d);
	expect_none(_metadata, opt, size, false, &self->kinds);
	expect_none(_metadata, opt, size, true, &self->kinds);

	/* Either byte alone makes a port. */
	d[1] = 1;
	put_opt(opt, variant->kind, size, d);
	expect_toa(_metadata, opt, size, false, &self->kinds,
		   variant->family, d);
	d[0] = 1;
	d[1] = 0;
	put_opt(opt, variant->kind, size, d);
	expect_toa(_metadata, opt, size, false, &self->kinds,
		   variant->family, d);
}

/* On a SYN, kind 254 with the magic is Fast Open; kind 253 is never. */
TEST_F(toa, tfo_magic)
{
	bool tfo = variant->kind == 254;
	u8 size = toa_size(variant->family);
	toa_data d;
	u8 opt[OPT_MAX];

	memcpy(d, variant->a, sizeof(d));
	d[0] = TOA_TFO_EXP_MAGIC >> 8;
	d[1] = TOA_TFO_EXP_MAGIC & 0xff;
	put_opt(opt, variant->kind, size, d);
	if (tfo)
		expect_none(_metadata, opt, size, true, &self->kinds);
	else
		expect_toa(_metadata, opt, size, true, &self->kinds,
			   variant->family, d);
	expect_toa(_metadata, opt, size, false, &self->kinds,
		   variant->family, d);

	put_opt(opt + size, variant->kind, size, variant->b);
	expect_toa(_metadata, opt, 2 * size, true, &self->kinds,
		   variant->family, tfo ? variant->b : d);

	/* Only the exact magic. */
	d[1]--;
	put_opt(opt, variant->kind, size, d);
	expect_toa(_metadata, opt, size, true, &self->kinds,
		   variant->family, d);
	d[0]--;
	d[1]++;
	put_opt(opt, variant->kind, size, d);
	expect_toa(_metadata, opt, size, true, &self->kinds,
		   variant->family, d);
}

/* What a SYN carries, padded so that the TOA ends the 40 bytes. */
TEST_F(toa, full_area)
{
	static const u8 syn_opts[] = {
		2, 4, 0x05, 0xb4,		/* MSS 1460 */
		4, 2,				/* SACK permitted */
		8, 10, 1, 2, 3, 4, 0, 0, 0, 0,	/* timestamps */
		OPT_NOP,
		3, 3, 7,			/* window scale */
	};
	u8 size = toa_size(variant->family);
	u8 opt[OPT_MAX];

	memset(opt, OPT_NOP, sizeof(opt));
	memcpy(opt, syn_opts, sizeof(syn_opts));
	put_opt(opt + OPT_MAX - size, variant->kind, size, variant->a);
	expect_toa(_metadata, opt, OPT_MAX, false, &self->kinds,
		   variant->family, variant->a);
	expect_toa(_metadata, opt, OPT_MAX, true, &self->kinds,
		   variant->family, variant->a);
	expect_none(_metadata, opt, OPT_MAX - 1, true, &self->kinds);
}

TEST_F(toa, truncated_header)
{
	u8 size = toa_size(variant->family);
	u8 opt[OPT_MAX];

	opt[0] = variant->kind;
	expect_none(_metadata, opt, 1, false, &self->kinds);

	memset(opt, OPT_NOP, sizeof(opt));
	opt[OPT_MAX - 1] = variant->kind;
	expect_none(_metadata, opt, OPT_MAX, false, &self->kinds);

	/* The header alone, its length promising more. */
	opt[OPT_MAX - 2] = variant->kind;
	opt[OPT_MAX - 1] = size;
	expect_none(_metadata, opt, OPT_MAX, false, &self->kinds);

	put_opt(opt, variant->kind, size, variant->a);
	opt[size] = variant->kind;
	expect_toa(_metadata, opt, size + 1, false, &self->kinds,
		   variant->family, variant->a);
}

/* Every length an option can claim, alone and followed by a usable TOA. */
FIXTURE(length) {
	struct toa_kinds kinds;
};

FIXTURE_VARIANT(length) {
	u8 kind;
};

FIXTURE_VARIANT_ADD(length, k254) {
	.kind = 254,
};

FIXTURE_VARIANT_ADD(length, k253) {
	.kind = 253,
};

FIXTURE_VARIANT_ADD(length, k200_configured) {
	.kind = 200,
};

FIXTURE_SETUP(length)
{
	toa_kinds_add(&self->kinds, 254);
	toa_kinds_add(&self->kinds, 253);
	toa_kinds_add(&self->kinds, variant->kind);
}

FIXTURE_TEARDOWN(length)
{
}

TEST_F(length, every_length)
{
	u8 opt[OPT_MAX + 8];
	unsigned int size, next;
	int syn;

	for (syn = 0; syn < 2; syn++) {
		for (size = 0; size <= OPT_MAX; size++) {
			opt[0] = variant->kind;
			opt[1] = size;
			memcpy(opt + 2, payload, sizeof(payload));
			next = size < 2 ? 2 : size;
			put_opt(opt + next, variant->kind, 8, good4);

			if (size == 8 || size == 20) {
				enum toa_family f = size == 8 ? TOA_IPV4 :
								TOA_IPV6;

				expect_toa(_metadata, opt, size, syn,
					   &self->kinds, f, payload);
				expect_toa(_metadata, opt, next + 8, syn,
					   &self->kinds, f, payload);
			} else if (size < 2) {
				expect_none(_metadata, opt, next + 8, syn,
					    &self->kinds);
			} else {
				expect_none(_metadata, opt, size, syn,
					    &self->kinds);
				expect_toa(_metadata, opt, next + 8, syn,
					   &self->kinds, TOA_IPV4, good4);
			}
		}
	}
}

/* Addresses no proxy sends are skipped; those next to them are not. */
FIXTURE(addr) {
	struct toa_kinds kinds;
};

FIXTURE_VARIANT(addr) {
	enum toa_family family;
	toa_data data;
	bool usable;
};

FIXTURE_VARIANT_ADD(addr, v4_any) {
	.family = TOA_IPV4, .data = V4(0, 0, 0, 0), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v4_lowest) {
	.family = TOA_IPV4, .data = V4(0, 0, 0, 1), .usable = true,
};

FIXTURE_VARIANT_ADD(addr, v4_below_loopback) {
	.family = TOA_IPV4, .data = V4(126, 255, 255, 255), .usable = true,
};

FIXTURE_VARIANT_ADD(addr, v4_loopback_first) {
	.family = TOA_IPV4, .data = V4(127, 0, 0, 0), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v4_loopback) {
	.family = TOA_IPV4, .data = V4(127, 0, 0, 1), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v4_loopback_last) {
	.family = TOA_IPV4, .data = V4(127, 255, 255, 255), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v4_above_loopback) {
	.family = TOA_IPV4, .data = V4(128, 0, 0, 0), .usable = true,
};

FIXTURE_VARIANT_ADD(addr, v4_below_link_local) {
	.family = TOA_IPV4, .data = V4(169, 253, 255, 255), .usable = true,
};

FIXTURE_VARIANT_ADD(addr, v4_link_local_first) {
	.family = TOA_IPV4, .data = V4(169, 254, 0, 0), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v4_link_local_last) {
	.family = TOA_IPV4, .data = V4(169, 254, 255, 255), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v4_above_link_local) {
	.family = TOA_IPV4, .data = V4(169, 255, 0, 0), .usable = true,
};

FIXTURE_VARIANT_ADD(addr, v4_below_mcast) {
	.family = TOA_IPV4, .data = V4(223, 255, 255, 255), .usable = true,
};

FIXTURE_VARIANT_ADD(addr, v4_mcast_first) {
	.family = TOA_IPV4, .data = V4(224, 0, 0, 0), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v4_mcast_all_hosts) {
	.family = TOA_IPV4, .data = V4(224, 0, 0, 1), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v4_mcast_last) {
	.family = TOA_IPV4, .data = V4(239, 255, 255, 255), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v4_above_mcast) {
	.family = TOA_IPV4, .data = V4(240, 0, 0, 0), .usable = true,
};

FIXTURE_VARIANT_ADD(addr, v4_below_bcast) {
	.family = TOA_IPV4, .data = V4(255, 255, 255, 254), .usable = true,
};

FIXTURE_VARIANT_ADD(addr, v4_bcast) {
	.family = TOA_IPV4, .data = V4(255, 255, 255, 255), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_any) {
	.family = TOA_IPV6, .data = { 0x1f, 0x90 }, .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_loopback) {
	.family = TOA_IPV6, .data = { 0x1f, 0x90, [17] = 1 }, .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_after_loopback) {
	.family = TOA_IPV6, .data = { 0x1f, 0x90, [17] = 2 }, .usable = true,
};

FIXTURE_VARIANT_ADD(addr, v6_link_local_first) {
	.family = TOA_IPV6, .data = { 0x1f, 0x90, 0xfe, 0x80 }, .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_link_local) {
	.family = TOA_IPV6, .data = { 0x1f, 0x90, 0xfe, 0x80, [17] = 1 },
	.usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_link_local_last) {
	.family = TOA_IPV6, .data = { 0x1f, 0x90, 0xfe, 0xbf, [4 ... 17] = 0xff },
	.usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_below_link_local) {
	.family = TOA_IPV6, .data = { 0x1f, 0x90, 0xfe, 0x7f, [4 ... 17] = 0xff },
	.usable = true,
};

FIXTURE_VARIANT_ADD(addr, v6_above_link_local) {
	.family = TOA_IPV6, .data = { 0x1f, 0x90, 0xfe, 0xc0 }, .usable = true,
};

#define V4MAPPED(a, b, c, d) \
	{ 0x1f, 0x90, [12] = 0xff, 0xff, a, b, c, d }
#define V4COMPAT(a, b, c, d) { 0x1f, 0x90, [14] = a, b, c, d }

FIXTURE_VARIANT_ADD(addr, v6_mapped_any) {
	.family = TOA_IPV6, .data = V4MAPPED(0, 0, 0, 0), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_mapped_loopback) {
	.family = TOA_IPV6, .data = V4MAPPED(127, 0, 0, 1), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_mapped_link_local) {
	.family = TOA_IPV6, .data = V4MAPPED(169, 254, 1, 1), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_mapped_mcast) {
	.family = TOA_IPV6, .data = V4MAPPED(224, 0, 0, 1), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_mapped_bcast) {
	.family = TOA_IPV6, .data = V4MAPPED(255, 255, 255, 255),
	.usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_mapped_usable) {
	.family = TOA_IPV6, .data = V4MAPPED(192, 0, 2, 7), .usable = true,
};

FIXTURE_VARIANT_ADD(addr, v6_not_mapped_loopback) {
	.family = TOA_IPV6,
	.data = { 0x1f, 0x90, [12] = 0xff, 0xfe, 127, 0, 0, 1 },
	.usable = true,
};

FIXTURE_VARIANT_ADD(addr, v6_compat_loopback) {
	.family = TOA_IPV6, .data = V4COMPAT(127, 0, 0, 1), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_compat_link_local) {
	.family = TOA_IPV6, .data = V4COMPAT(169, 254, 0, 0), .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_compat_mcast) {
	.family = TOA_IPV6, .data = V4COMPAT(239, 255, 255, 255),
	.usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_compat_bcast) {
	.family = TOA_IPV6, .data = V4COMPAT(255, 255, 255, 255),
	.usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_compat_usable) {
	.family = TOA_IPV6, .data = V4COMPAT(192, 0, 2, 7), .usable = true,
};

FIXTURE_VARIANT_ADD(addr, v6_not_compat_loopback) {
	.family = TOA_IPV6, .data = { 0x1f, 0x90, [11] = 1, 0, 0, 127, 0, 0, 1 },
	.usable = true,
};

FIXTURE_VARIANT_ADD(addr, v6_first_byte_only) {
	.family = TOA_IPV6, .data = { 0x1f, 0x90, 0x01 }, .usable = true,
};

FIXTURE_VARIANT_ADD(addr, v6_below_mcast) {
	.family = TOA_IPV6, .data = { 0x1f, 0x90, 0xfe, [3 ... 17] = 0xff },
	.usable = true,
};

FIXTURE_VARIANT_ADD(addr, v6_mcast_first) {
	.family = TOA_IPV6, .data = { 0x1f, 0x90, 0xff }, .usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_mcast_all_nodes) {
	.family = TOA_IPV6, .data = { 0x1f, 0x90, 0xff, 0x02, [17] = 1 },
	.usable = false,
};

FIXTURE_VARIANT_ADD(addr, v6_mcast_last) {
	.family = TOA_IPV6, .data = { 0x1f, 0x90, [2 ... 17] = 0xff },
	.usable = false,
};

FIXTURE_SETUP(addr)
{
	toa_kinds_add(&self->kinds, 254);
	toa_kinds_add(&self->kinds, 253);
}

FIXTURE_TEARDOWN(addr)
{
}

TEST_F(addr, alone)
{
	u8 size = toa_size(variant->family);
	u8 opt[OPT_MAX];
	int syn;

	put_opt(opt, 254, size, variant->data);
	for (syn = 0; syn < 2; syn++) {
		if (variant->usable)
			expect_toa(_metadata, opt, size, syn, &self->kinds,
				   variant->family, variant->data);
		else
			expect_none(_metadata, opt, size, syn, &self->kinds);
	}
}

TEST_F(addr, before_usable)
{
	u8 size = toa_size(variant->family);
	u8 opt[OPT_MAX];

	put_opt(opt, 253, size, variant->data);
	put_opt(opt + size, 254, 8, good4);
	if (variant->usable)
		expect_toa(_metadata, opt, size + 8, false, &self->kinds,
			   variant->family, variant->data);
	else
		expect_toa(_metadata, opt, size + 8, false, &self->kinds,
			   TOA_IPV4, good4);
}

TEST(empty)
{
	struct toa_kinds kinds = { 0 };
	u8 opt[8];

	toa_kinds_add(&kinds, 254);
	put_opt(opt, 254, 8, good4);
	expect_none(_metadata, opt, 0, false, &kinds);
	expect_none(_metadata, opt, 0, true, &kinds);
}

TEST(kind_outside_set)
{
	struct toa_kinds kinds = { 0 };
	u8 opt[16];

	put_opt(opt, 200, 8, good4);
	put_opt(opt + 8, 254, 8, payload);
	expect_none(_metadata, opt, 16, false, &kinds);

	toa_kinds_add(&kinds, 254);
	toa_kinds_add(&kinds, 253);
	expect_none(_metadata, opt, 8, false, &kinds);
	expect_toa(_metadata, opt, 16, false, &kinds, TOA_IPV4, payload);

	toa_kinds_add(&kinds, 200);
	expect_toa(_metadata, opt, 16, false, &kinds, TOA_IPV4, good4);

	memset(&kinds, 0, sizeof(kinds));
	toa_kinds_add(&kinds, 200);
	expect_none(_metadata, opt + 8, 8, false, &kinds);
}

TEST_HARNESS_MAIN
