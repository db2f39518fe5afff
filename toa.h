/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TOA_H
#define TOA_H

#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include "compat.h"
#include "toa_parse.h"
#include "toa_uapi.h"

struct in6_addr;
struct net;
struct sk_buff;
struct sock;
struct sockaddr;
struct socket;

struct toa_stats {
	u64 count[TOA_STAT_COUNT];
};

/* Host-wide: shown in the initial namespace's /proc/net/toa_stats. */
DECLARE_PER_CPU(struct toa_stats, toa_stats);

/* What toa keeps for each network namespace (net_generic()). */
struct toa_stats_net {
	/*
	 * The namespace's own counters; none for the initial namespace, whose
	 * file shows the host-wide ones. NULL if they could not be allocated,
	 * and from the namespace's pre_exit on: sockets (kernel ones) can end
	 * after toa's exit of their namespace. Read under RCU, as an __rcu
	 * pointer would be (sparse takes no __percpu __rcu).
	 */
	struct toa_stats __percpu *stats;
	struct toa_stats __percpu *stats_mem;	/* freed at exit */
	struct proc_dir_entry *stats_file;	/* NULL if it could not be made */
};

extern unsigned int toa_stats_net_id;

/*
 * Counts @stat for a socket of @net. &init_net: the host-wide counters only,
 * also for a record whose socket is gone. Runs in softirq or task context.
 */
static inline void toa_stat_inc(const struct net *net, enum toa_stat stat)
{
	struct toa_stats_net *tn;
	struct toa_stats __percpu *stats;

	this_cpu_inc(toa_stats.count[stat]);
	if (net_eq(net, &init_net))
		return;
	rcu_read_lock();
	tn = net_generic(net, toa_stats_net_id);
	stats = READ_ONCE(tn->stats);
	if (stats)
		this_cpu_inc(stats->count[stat]);
	rcu_read_unlock();
}

extern struct toa_kinds toa_kinds;

/* What an IPv4 socket returns for an IPv6 client: the ipv6_on_ipv4 parameter. */
enum toa_ipv6_on_ipv4_mode {
	TOA_IPV6_ON_IPV4_SOCKADDR_IN6,
	TOA_IPV6_ON_IPV4_PROXY,
};

extern int toa_ipv6_on_ipv4;

int toa_stats_init(void);
void toa_stats_uninit(void);

int toa_trust_init(void);
void toa_trust_uninit(void);
bool toa_trust_allows(const struct net *net, const struct sk_buff *skb);

/* getname()'s @peer, as net/socket.c passes it; the kernel names none. */
enum toa_getname_peer {
	TOA_GETNAME_SOCKNAME,	/* getsockname() */
	TOA_GETNAME_PEERNAME,	/* getpeername() */
	TOA_GETNAME_ACCEPT,	/* accept(): the new socket's peer */
};

int toa_sock_init(void);
void toa_sock_uninit(void);
void toa_sock_attach(struct sock *child, const struct sk_buff *skb);
int toa_sock_getname(struct socket *sock, struct sockaddr *uaddr, int peer);
bool toa_sock_peer6(const struct sock *sk, struct in6_addr *addr,
		    __be16 *port);
void toa_sock_detach(const struct sock *sk);

int toa_sockopt_init(void);
void toa_sockopt_uninit(void);

int __init toa_hook_init(void);
void toa_hook_uninit(void);

#endif /* TOA_H */
