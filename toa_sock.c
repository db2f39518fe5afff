// SPDX-License-Identifier: GPL-2.0
/*
 * The client address of each TOA connection, kept beside the socket in a hash
 * table keyed by the socket's address. toa writes no field of the socket, so
 * no other user of sk_user_data or sk_destruct can misread it, and unloading
 * only has to empty the table.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/net.h>
#include <linux/proc_fs.h>
#include <linux/rhashtable.h>
#include <linux/seq_file.h>
#include <linux/seq_file_net.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>
#include <net/tcp_states.h>
#include "toa.h"

/*
 * A record is freed as soon as its socket ends or disconnects, without
 * waiting for RCU readers: the caches are SLAB_TYPESAFE_BY_RCU, so a lookup
 * walking past a freed record still reads a record, and rhashtable restarts
 * a walk that strayed into another chain. A reader copies the address and
 * then checks that the record is still its socket's (toa_sock_addr_get()):
 * one freed and reused meanwhile names another socket. This saves an
 * rcu_head on every connection.
 */
struct toa_sock {
	struct rhash_head node;
	const struct sock *sk;
	__be16 port;
	u8 family;		/* enum toa_family: set once, by the cache */
};

/*
 * Each family's record extends the common head, as tcp6_sock extends
 * tcp_sock, and has its own cache sized by its type: an IPv4 record is 24
 * bytes, an IPv6 one 40. The address is reached through the type that the
 * head's family, which the cache gave it, names.
 */
struct toa_sock4 {
	struct toa_sock head;
	__be32 ip4;
};

struct toa_sock6 {
	struct toa_sock head;
	struct in6_addr ip6;
};

static struct kmem_cache *toa_sock_cache[TOA_IPV6 + 1] __read_mostly;
static struct rhashtable toa_socks;

/*
 * The key is a socket's address: one multiply spreads it well enough, and
 * every getpeername() without TOA pays for hashing it.
 */
static u32 toa_socks_hash(const void *key, u32 len, u32 seed)
{
	return hash_64(*(const unsigned long *)key ^ seed, 32);
}

static const struct rhashtable_params toa_socks_params = {
	.key_len = sizeof(const struct sock *),
	.key_offset = offsetof(struct toa_sock, sk),
	.head_offset = offsetof(struct toa_sock, node),
	.hashfn = toa_socks_hash,
	.automatic_shrinking = true,
};

/* Reads no further than @ts's own type goes. */
static void toa_sock_addr_copy(struct toa_addr *to, const struct toa_sock *ts)
{
	to->port = ts->port;
	to->family = ts->family;
	if (ts->family == TOA_IPV4)
		to->ip4 = container_of(ts, const struct toa_sock4, head)->ip4;
	else
		memcpy(to->ip6, &container_of(ts, const struct toa_sock6, head)->ip6,
		       sizeof(to->ip6));
}

/* Writes no further than @ts's own type goes. */
static void toa_sock_addr_set(struct toa_sock *ts, const struct toa_addr *from)
{
	ts->port = from->port;
	if (ts->family == TOA_IPV4)
		container_of(ts, struct toa_sock4, head)->ip4 = from->ip4;
	else
		memcpy(&container_of(ts, struct toa_sock6, head)->ip6, from->ip6,
		       sizeof(from->ip6));
}

static void toa_sock_free(const struct net *net, struct toa_sock *ts)
{
	toa_stat_inc(net, TOA_STAT_IP6_ADDRESS_FREE);
	kmem_cache_free(toa_sock_cache[ts->family], ts);
}

void toa_sock_attach(struct sock *child, const struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	int optlen = th->doff * 4 - (int)sizeof(*th);
	struct toa_sock *ts, *stale;
	struct toa_addr addr;

	/* tcp_v4_rcv() and tcp_v6_rcv() pulled the whole header linear. */
	if (optlen <= 0 ||
	    !toa_parse((const u8 *)(th + 1), optlen, th->syn, &toa_kinds,
		       &addr)) {
		toa_stat_inc(sock_net(child), TOA_STAT_SYN_RECV_SOCK_NO_TOA);
		return;
	}
	if (!toa_trust_allows(sock_net(child), skb)) {
		toa_stat_inc(sock_net(child), TOA_STAT_SYN_RECV_SOCK_TOA_UNTRUSTED);
		return;
	}

	ts = kmem_cache_alloc(toa_sock_cache[addr.family], GFP_ATOMIC);
	if (!ts)
		goto nomem;
	WRITE_ONCE(ts->sk, child);
	/* Pairs with toa_sock_addr_get(): the key before the address. */
	smp_wmb();
	toa_sock_addr_set(ts, &addr);
	stale = rhashtable_lookup_get_insert_fast(&toa_socks, &ts->node,
						  toa_socks_params);
	if (IS_ERR(stale)) {
		kmem_cache_free(toa_sock_cache[addr.family], ts);
		goto nomem;
	}
	/*
	 * A brand-new socket has no address yet: a record keyed by it outlived
	 * an earlier socket at the same place, whose end toa did not see.
	 */
	if (stale) {
		if (rhashtable_replace_fast(&toa_socks, &stale->node, &ts->node,
					    toa_socks_params)) {
			kmem_cache_free(toa_sock_cache[addr.family], ts);
			goto nomem;
		}
		/* Its socket, and so its namespace, is gone: host-wide only. */
		toa_sock_free(&init_net, stale);
	}
	toa_stat_inc(sock_net(child), TOA_STAT_SYN_RECV_SOCK_TOA);
	toa_stat_inc(sock_net(child), TOA_STAT_IP6_ADDRESS_ALLOC);
	return;

nomem:
	pr_warn_ratelimited("out of memory: a connection keeps the proxy's address\n");
	toa_stat_inc(sock_net(child), TOA_STAT_SYN_RECV_SOCK_NO_TOA);
}

/*
 * Whether a lookup is worth it: not while the host has no TOA connection.
 * A record is in the table before its socket can be accepted (the accept
 * queue's lock orders the two), so this never misses one.
 */
static bool toa_sock_may_have_record(const struct sock *sk)
{
	return sk->sk_protocol == IPPROTO_TCP &&
	       atomic_read(&toa_socks.nelems);
}

/* Copies @sk's client address into @addr; false if it has none. */
static bool toa_sock_addr_get(const struct sock *sk, struct toa_addr *addr)
{
	const struct toa_sock *ts;
	bool found = false;

	if (!toa_sock_may_have_record(sk))
		return false;
	rcu_read_lock();
	ts = rhashtable_lookup(&toa_socks, &sk, toa_socks_params);
	if (ts) {
		toa_sock_addr_copy(addr, ts);
		/* Pairs with toa_sock_attach(): the key after the address. */
		smp_rmb();
		found = READ_ONCE(ts->sk) == sk;
	}
	rcu_read_unlock();
	return found;
}

static void toa_addr_to_in6(const struct toa_addr *addr, struct in6_addr *in6)
{
	if (addr->family == TOA_IPV4)
		ipv6_addr_set_v4mapped(addr->ip4, in6);
	else
		memcpy(in6, addr->ip6, sizeof(*in6));
}

/*
 * Fills @uaddr with the client address for getpeername() and accept() and
 * returns its length, or returns 0 to leave the call to the kernel.
 */
int toa_sock_getname(struct socket *sock, struct sockaddr *uaddr, int peer)
{
	struct sock *sk = sock->sk;
	struct toa_addr addr;
	struct sockaddr_in6 *sin6;

	/*
	 * In-kernel users (nfsd, ksmbd, ...) keep the real peer: they decide
	 * on it, and may have room for a sockaddr_in only.
	 */
	if (peer == TOA_GETNAME_SOCKNAME || !sock->file)
		return 0;
	if (!toa_sock_addr_get(sk, &addr)) {
		/*
		 * Accepted sockets inherit their listener's backlog; a client
		 * socket never listened and is not what the counter is about.
		 */
		if (sk->sk_protocol == IPPROTO_TCP &&
		    READ_ONCE(sk->sk_max_ack_backlog) &&
		    READ_ONCE(sk->sk_state) != TCP_LISTEN)
			toa_stat_inc(sock_net(sk), TOA_STAT_GETNAME_TOA_EMPTY);
		return 0;
	}
	/* Not connected: the kernel answers -ENOTCONN, as without toa. */
	if (!READ_ONCE(inet_sk(sk)->inet_dport) ||
	    (peer == TOA_GETNAME_PEERNAME &&
	     ((1 << READ_ONCE(sk->sk_state)) & (TCPF_CLOSE | TCPF_SYN_SENT))))
		return 0;

	if (sk->sk_family == AF_INET && addr.family == TOA_IPV4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)uaddr;

		sin->sin_family = AF_INET;
		sin->sin_port = addr.port;
		sin->sin_addr.s_addr = addr.ip4;
		memset(sin->sin_zero, 0, sizeof(sin->sin_zero));
		toa_stat_inc(sock_net(sk), TOA_STAT_GETNAME_TOA_OK);
		return sizeof(*sin);
	}

	/*
	 * An IPv6 client behind an IPv4 listener: the family the caller reads
	 * is not the one stored. It gets a sockaddr_in6, as the guide's sample
	 * server expects, unless ipv6_on_ipv4=proxy asks for the kernel's own
	 * answer.
	 */
	if (sk->sk_family == AF_INET) {
		toa_stat_inc(sock_net(sk), TOA_STAT_GETNAME_TOA_MISMATCH);
		if (READ_ONCE(toa_ipv6_on_ipv4) == TOA_IPV6_ON_IPV4_PROXY)
			return 0;
	} else {
		toa_stat_inc(sock_net(sk), TOA_STAT_GETNAME_TOA_OK);
	}
	sin6 = (struct sockaddr_in6 *)uaddr;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = addr.port;
	sin6->sin6_flowinfo = 0;
	toa_addr_to_in6(&addr, &sin6->sin6_addr);
	sin6->sin6_scope_id = 0;
	return sizeof(*sin6);
}

/* The client address as IPv6 (IPv4 mapped), for the DPVS-style getsockopt. */
bool toa_sock_peer6(const struct sock *sk, struct in6_addr *in6, __be16 *port)
{
	struct toa_addr addr;
	bool found = toa_sock_addr_get(sk, &addr);

	if (found) {
		toa_addr_to_in6(&addr, in6);
		*port = addr.port;
	}
	toa_stat_inc(sock_net(sk), found ? TOA_STAT_GETNAME_TOA_OK :
					   TOA_STAT_GETNAME_TOA_EMPTY);
	return found;
}

/* @sk ended, or disconnected and may connect elsewhere: its client is gone. */
void toa_sock_detach(const struct sock *sk)
{
	struct toa_sock *ts;

	if (!toa_sock_may_have_record(sk))
		return;
	rcu_read_lock();
	ts = rhashtable_lookup(&toa_socks, &sk, toa_socks_params);
	if (ts && !rhashtable_remove_fast(&toa_socks, &ts->node,
					  toa_socks_params))
		toa_sock_free(sock_net(sk), ts);
	rcu_read_unlock();
}

/*
 * /proc/net/toa_table: the TOA connections of the reader's namespace, one a
 * line, with the addresses ss shows and the client's. The walk holds no lock
 * across reads: each buffer enters the table again and skips what was shown
 * (so a line may be missed or shown twice while connections come and go).
 */
struct toa_table_iter {
	struct seq_net_private p;	/* first: seq_file_net() */
	struct rhashtable_iter hti;
};

/* The next record that names a socket of the reader's namespace. */
static struct toa_sock *toa_table_next(struct seq_file *seq)
{
	struct toa_table_iter *iter = seq->private;
	struct toa_sock *ts;
	const struct sock *sk;

	for (;;) {
		ts = rhashtable_walk_next(&iter->hti);
		if (ts == ERR_PTR(-EAGAIN))	/* resized: walk on */
			continue;
		if (!ts)
			return NULL;
		/* Sockets are SLAB_TYPESAFE_BY_RCU: always a socket's net. */
		sk = READ_ONCE(ts->sk);
		if (sk && net_eq(sock_net(sk), seq_file_net(seq)))
			return ts;
	}
}

static void *toa_table_start(struct seq_file *seq, loff_t *pos)
	__acquires(RCU)
{
	struct toa_table_iter *iter = seq->private;
	void *v = SEQ_START_TOKEN;
	loff_t skip;

	rhashtable_walk_enter(&toa_socks, &iter->hti);
	rhashtable_walk_start(&iter->hti);
	for (skip = *pos; skip && v; skip--)
		v = toa_table_next(seq);
	return v;
}

static void *toa_table_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	++*pos;
	return toa_table_next(seq);
}

static void toa_table_stop(struct seq_file *seq, void *v)
	__releases(RCU)
{
	struct toa_table_iter *iter = seq->private;

	rhashtable_walk_stop(&iter->hti);
	rhashtable_walk_exit(&iter->hti);
}

/* As ss prints it: 10.0.0.1:80, [2001:db8::1]:80, [::ffff:10.0.0.1]:80. */
static void toa_table_addr(struct seq_file *seq, int family, const void *addr,
			   __be16 port)
{
	if (family == AF_INET)
		seq_printf(seq, "%pI4:%u ", addr, ntohs(port));
	else
		seq_printf(seq, "[%pI6c]:%u ", addr, ntohs(port));
}

/* The socket's own addresses: local, and the peer (the proxy). */
static void toa_table_sock(struct seq_file *seq, const struct sock *sk,
			   u16 num)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		toa_table_addr(seq, AF_INET6, &sk->sk_v6_rcv_saddr, htons(num));
		toa_table_addr(seq, AF_INET6, &sk->sk_v6_daddr, sk->sk_dport);
		return;
	}
#endif
	toa_table_addr(seq, AF_INET, &sk->sk_rcv_saddr, htons(num));
	toa_table_addr(seq, AF_INET, &sk->sk_daddr, sk->sk_dport);
}

static int toa_table_show(struct seq_file *seq, void *v)
{
	struct toa_sock *ts = v;
	struct toa_addr addr;
	struct sock *sk;
	int shown = SEQ_SKIP;
	u16 num;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, "local proxy client inode\n");
		return 0;
	}
	/*
	 * The record, and its socket, may be ending. Held, the socket is one
	 * (maybe a new one in the same place): if its record, as getname reads
	 * it, is there, the line is true of a live connection.
	 */
	sk = (struct sock *)READ_ONCE(ts->sk);
	if (!sk || !refcount_inc_not_zero(&sk->sk_refcnt))
		return SEQ_SKIP;
	/* Closing (its port already given back): no connection any more. */
	num = READ_ONCE(sk->sk_num);
	if (!num || READ_ONCE(sk->sk_state) == TCP_CLOSE ||
	    !net_eq(sock_net(sk), seq_file_net(seq)) ||
	    !toa_sock_addr_get(sk, &addr))
		goto out;
	toa_table_sock(seq, sk, num);
	if (addr.family == TOA_IPV4)
		toa_table_addr(seq, AF_INET, &addr.ip4, addr.port);
	else
		toa_table_addr(seq, AF_INET6, addr.ip6, addr.port);
	seq_printf(seq, "%llu\n", (u64)sock_i_ino(sk));
	shown = 0;
out:
	sock_put(sk);
	return shown;
}

static const struct seq_operations toa_table_ops = {
	.start = toa_table_start,
	.next = toa_table_seq_next,
	.stop = toa_table_stop,
	.show = toa_table_show,
};

static unsigned int toa_table_net_id __read_mostly;

/* A namespace starts even when its file cannot be made. */
static int __net_init toa_table_net_init(struct net *net)
{
	struct proc_dir_entry **file = net_generic(net, toa_table_net_id);

	*file = proc_create_net("toa_table", 0400, net->proc_net,
				&toa_table_ops, sizeof(struct toa_table_iter));
	if (!*file)
		pr_warn("cannot create /proc/net/toa_table (does another module have one?): this network namespace goes on without it\n");
	return 0;
}

/* Only toa's own file: one made by another module is not toa's to remove. */
static void __net_exit toa_table_net_exit(struct net *net)
{
	struct proc_dir_entry **file = net_generic(net, toa_table_net_id);

	proc_remove(*file);
}

static struct pernet_operations toa_table_net_ops = {
	.init = toa_table_net_init,
	.exit = toa_table_net_exit,
	.id = &toa_table_net_id,
	.size = sizeof(struct proc_dir_entry *),
};

static void toa_sock_caches_destroy(void)
{
	/* Waits for RCU readers itself: the caches are SLAB_TYPESAFE_BY_RCU. */
	kmem_cache_destroy(toa_sock_cache[TOA_IPV6]);
	kmem_cache_destroy(toa_sock_cache[TOA_IPV4]);
}

/*
 * The family is set when the cache makes an object, never by toa_sock_attach():
 * a reader that strays onto a record freed and reused meanwhile (the caches
 * are SLAB_TYPESAFE_BY_RCU) still finds the family of the record's own type.
 */
static void toa_sock4_ctor(void *obj)
{
	((struct toa_sock4 *)obj)->head.family = TOA_IPV4;
}

static void toa_sock6_ctor(void *obj)
{
	((struct toa_sock6 *)obj)->head.family = TOA_IPV6;
}

int toa_sock_init(void)
{
	int err;

	toa_sock_cache[TOA_IPV4] =
		kmem_cache_create("toa_sock4", sizeof(struct toa_sock4), 0,
				  SLAB_TYPESAFE_BY_RCU, toa_sock4_ctor);
	toa_sock_cache[TOA_IPV6] =
		kmem_cache_create("toa_sock6", sizeof(struct toa_sock6), 0,
				  SLAB_TYPESAFE_BY_RCU, toa_sock6_ctor);
	if (!toa_sock_cache[TOA_IPV4] || !toa_sock_cache[TOA_IPV6]) {
		toa_sock_caches_destroy();
		return -ENOMEM;
	}
	err = rhashtable_init(&toa_socks, &toa_socks_params);
	if (err)
		goto err_table;
	/* After the table, before unloading frees it: the file walks it. */
	err = register_pernet_subsys(&toa_table_net_ops);
	if (err)
		goto err_file;
	return 0;

err_file:
	rhashtable_destroy(&toa_socks);
err_table:
	toa_sock_caches_destroy();
	return err;
}

/*
 * Sockets still open keep working, with the proxy's address. Their sockets
 * may have ended unseen since the hooks went: host-wide counts only, and the
 * namespaces' counters go with the module anyway.
 */
static void toa_sock_forget(void *ptr, void *arg)
{
	toa_sock_free(&init_net, ptr);
}

/* Called once nothing can reach the table any more. */
void toa_sock_uninit(void)
{
	unregister_pernet_subsys(&toa_table_net_ops);
	rhashtable_free_and_destroy(&toa_socks, toa_sock_forget, NULL);
	toa_sock_caches_destroy();
}
