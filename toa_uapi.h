/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * What toa shows user space: the getsockopt that gives an IPv4 socket its
 * IPv6 client, the TCP option that carries the client, the limit of the
 * kinds= parameter and the rows of /proc/net/toa_stats. The module, its
 * tests, the benchmark and the installer read them here, so that they
 * cannot drift apart.
 */
#ifndef _TOA_UAPI_H
#define _TOA_UAPI_H

#include <linux/in6.h>
#include <linux/types.h>

/*
 * getsockopt(fd, IPPROTO_IP, TOA_SO_GET_LOOKUP, &peer, &len) on an accepted
 * IPv4 socket fills a struct toa_peer6, the layout of DPVS's struct
 * toa_nat64_peer: servers written for DPVS's NAT64 work unchanged. An IPv4
 * client comes as ::ffff:a.b.c.d. Fails with ENOENT on a connection without
 * TOA, and with EINVAL if len is too short.
 */
#define TOA_SO_GET_LOOKUP	4096

struct toa_peer6 {
	struct in6_addr saddr;
	__be16 sport;
};

/* The option: kind, length, port, then the client's IPv4 or IPv6 address. */
#define TOA_OPT_LEN_IP4		8
#define TOA_OPT_LEN_IP6		20

/* The kinds= parameter takes up to this many option kinds. */
#define TOA_KINDS_MAX		16

/*
 * The rows of /proc/net/toa_stats, in their order, named as in the user
 * guide. TOA_STATS(X) expands X(ID, "name") for each row; enum toa_stat
 * numbers them TOA_STAT_<ID>.
 */
#define TOA_STATS(X)							\
	X(SYN_RECV_SOCK_TOA, "syn_recv_sock_toa")			\
	X(SYN_RECV_SOCK_NO_TOA, "syn_recv_sock_no_toa")			\
	X(GETNAME_TOA_OK, "getname_toa_ok")				\
	X(GETNAME_TOA_MISMATCH, "getname_toa_mismatch")			\
	X(GETNAME_TOA_EMPTY, "getname_toa_empty")			\
	X(IP6_ADDRESS_ALLOC, "ip6_address_alloc")			\
	X(IP6_ADDRESS_FREE, "ip6_address_free")				\
	X(SYN_RECV_SOCK_TOA_UNTRUSTED, "syn_recv_sock_toa_untrusted")

#define TOA_STAT_ID(id, name)	TOA_STAT_##id,
enum toa_stat {
	TOA_STATS(TOA_STAT_ID)
	TOA_STAT_COUNT
};

#undef TOA_STAT_ID

#endif /* _TOA_UAPI_H */
