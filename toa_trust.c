// SPDX-License-Identifier: GPL-2.0
/*
 * The trusted sources: the proxies allowed to speak for a client. TOA on the
 * segment that completes a handshake is used only when that segment's own
 * source address is in the list; any host that can reach the server directly
 * could otherwise name any client it likes.
 *
 * The list is set at load (trusted=) and replaced whole by a write to
 * /proc/net/toa_trusted. Each network namespace may have its own, which
 * narrows the initial namespace's: a source must be in both, where both
 * exist. No list at all accepts TOA from any source, as before.
 *
 * A list in force is an immutable snapshot of sorted, disjoint ranges,
 * published with RCU: the SYN-receive path takes no lock and finds a source
 * with a binary search.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/if_ether.h>
#include <linux/inet.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/proc_fs.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include "toa.h"

/* The most prefixes a list may have (README: Security). */
#define TOA_TRUST_MAX		4096
#define TOA_TRUST_PROC		"toa_trusted"

/*
 * trusted= is parsed by toa_trust_init(). Its value stays in the module's
 * argument string for as long as the module is loaded; charp would copy it,
 * but refuses more than 1024 bytes, too few for 4096 prefixes. Not in sysfs:
 * /proc/net/toa_trusted shows the list in force.
 */
static const char *trusted;

static int toa_trust_param_set(const char *val, const struct kernel_param *kp)
{
	trusted = val;
	return 0;
}

static const struct kernel_param_ops toa_trust_param_ops = {
	.set = toa_trust_param_set,
};

module_param_cb(trusted, &toa_trust_param_ops, NULL, 0);
MODULE_PARM_DESC(trusted,
		 "CIDR prefixes of the proxies allowed to carry TOA, e.g. 203.0.113.0/24,2001:db8:1::/48 (default: any source; replace at run time in /proc/net/toa_trusted)");

enum toa_trust_family {
	TOA_TRUST_IPV4,
	TOA_TRUST_IPV6,
	TOA_TRUST_FAMILIES
};

static const unsigned int toa_trust_bits[TOA_TRUST_FAMILIES] = { 32, 128 };

/* An address as a 128-bit number; an IPv4 address is the low 32 bits. */
struct toa_u128 {
	u64 hi, lo;
};

struct toa_range {
	struct toa_u128 first, last;
};

/*
 * A list in force, never changed once published: the IPv4 ranges, then the
 * IPv6 ones, each sorted, and neither overlapping nor touching.
 */
struct toa_trust {
	struct rcu_head rcu;
	unsigned int count[TOA_TRUST_FAMILIES];
	struct toa_range range[];
};

/* A prefix as parsed, before the list is sorted and merged. */
struct toa_prefix {
	struct toa_range range;
	enum toa_trust_family family;
};

struct toa_trust_net {
	struct toa_trust __rcu *list;
};

static unsigned int toa_trust_net_id __read_mostly;
/* Serialises replacements; readers only use RCU. */
static DEFINE_MUTEX(toa_trust_mutex);
/* The trusted= list, until the initial namespace takes it. */
static struct toa_trust *toa_trust_at_load;

static int toa_u128_cmp(struct toa_u128 a, struct toa_u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

/* The low @bits bits set. */
static struct toa_u128 toa_u128_mask(unsigned int bits)
{
	struct toa_u128 m;

	m.lo = bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
	m.hi = bits <= 64 ? 0 : bits >= 128 ? ~0ULL : (1ULL << (bits - 64)) - 1;
	return m;
}

/* Adds one; false if @a was the last 128-bit number. */
static bool toa_u128_inc(struct toa_u128 *a)
{
	if (++a->lo)
		return true;
	return ++a->hi != 0;
}

static struct toa_u128 toa_u128_from_ip6(const struct in6_addr *a)
{
	return (struct toa_u128){
		.hi = (u64)ntohl(a->s6_addr32[0]) << 32 | ntohl(a->s6_addr32[1]),
		.lo = (u64)ntohl(a->s6_addr32[2]) << 32 | ntohl(a->s6_addr32[3]),
	};
}

/* "address/length", as the list is read back and named in messages. */
static void toa_prefix_format(char *buf, size_t size,
			      enum toa_trust_family family,
			      struct toa_u128 first, unsigned int plen)
{
	struct in6_addr in6;
	__be32 ip4;

	if (family == TOA_TRUST_IPV4) {
		ip4 = htonl((u32)first.lo);
		snprintf(buf, size, "%pI4/%u", &ip4, plen);
		return;
	}
	in6.s6_addr32[0] = htonl(first.hi >> 32);
	in6.s6_addr32[1] = htonl((u32)first.hi);
	in6.s6_addr32[2] = htonl(first.lo >> 32);
	in6.s6_addr32[3] = htonl((u32)first.lo);
	snprintf(buf, size, "%pI6c/%u", &in6, plen);
}

/* One "address[/length]" token; a bare address is a /32 or /128. */
static int toa_prefix_parse(const char *what, const char *tok,
			    struct toa_prefix *p)
{
	const char *slash = strchr(tok, '/'), *end;
	int alen = slash ? slash - tok : strlen(tok);
	struct toa_u128 addr, host;
	struct in6_addr in6;
	unsigned int plen;
	char buf[64];
	__be32 ip4;

	if (strnchr(tok, alen, ':')) {
		if (!in6_pton(tok, alen, in6.s6_addr, -1, &end) ||
		    end != tok + alen)
			goto bad;
		p->family = TOA_TRUST_IPV6;
		addr = toa_u128_from_ip6(&in6);
	} else {
		if (!in4_pton(tok, alen, (u8 *)&ip4, -1, &end) ||
		    end != tok + alen)
			goto bad;
		p->family = TOA_TRUST_IPV4;
		addr = (struct toa_u128){ .lo = ntohl(ip4) };
	}
	plen = toa_trust_bits[p->family];
	if (slash && (kstrtouint(slash + 1, 10, &plen) ||
		      plen > toa_trust_bits[p->family]))
		goto bad;

	host = toa_u128_mask(toa_trust_bits[p->family] - plen);
	p->range.first.hi = addr.hi & ~host.hi;
	p->range.first.lo = addr.lo & ~host.lo;
	p->range.last.hi = addr.hi | host.hi;
	p->range.last.lo = addr.lo | host.lo;
	if (toa_u128_cmp(addr, p->range.first)) {
		toa_prefix_format(buf, sizeof(buf), p->family, p->range.first,
				  plen);
		pr_notice_ratelimited("%s: %s has host bits set: using %s\n",
				      what, tok, buf);
	}
	return 0;

bad:
	pr_err_ratelimited("%s: '%s' is not an IPv4 or IPv6 prefix (address/length, length up to 32 or 128)\n",
			   what, tok);
	return -EINVAL;
}

static int toa_prefix_cmp(const void *a, const void *b)
{
	const struct toa_prefix *pa = a, *pb = b;

	if (pa->family != pb->family)
		return pa->family < pb->family ? -1 : 1;
	return toa_u128_cmp(pa->range.first, pb->range.first);
}

/* Sorts @n prefixes and makes them a snapshot of disjoint ranges. */
static struct toa_trust *toa_trust_build(struct toa_prefix *p, unsigned int n)
{
	struct toa_trust *t;
	unsigned int i, out = 0;

	sort(p, n, sizeof(*p), toa_prefix_cmp, NULL);
	for (i = 0; i < n; i++) {
		struct toa_prefix *prev = out ? &p[out - 1] : NULL;
		struct toa_u128 next;

		if (prev && prev->family == p[i].family) {
			next = prev->range.last;
			/* Overlapping or touching: one range. */
			if (!toa_u128_inc(&next) ||
			    toa_u128_cmp(p[i].range.first, next) <= 0) {
				if (toa_u128_cmp(p[i].range.last,
						 prev->range.last) > 0)
					prev->range.last = p[i].range.last;
				continue;
			}
		}
		p[out++] = p[i];
	}

	t = kvzalloc(struct_size(t, range, out), GFP_KERNEL);
	if (!t)
		return NULL;
	for (i = 0; i < out; i++) {
		t->count[p[i].family]++;
		t->range[i] = p[i].range;
	}
	return t;
}

/*
 * Parses @text (changed in place): prefixes separated by commas or white
 * space. Sets *@list to the new snapshot, NULL for an empty text, or says
 * what is wrong, naming the input as @what.
 */
static int toa_trust_parse(char *text, const char *what,
			   struct toa_trust **list)
{
	struct toa_prefix *p;
	unsigned int n = 0;
	char *piece, *tok;
	int err = 0;

	*list = NULL;
	if (!*skip_spaces(text))
		return 0;
	p = kvmalloc_array(TOA_TRUST_MAX, sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;

	while (!err && (piece = strsep(&text, ","))) {
		piece = strim(piece);
		if (!*piece) {
			pr_err_ratelimited("%s: an empty prefix (two commas, or a comma at either end)\n",
					   what);
			err = -EINVAL;
		}
		while (!err && (tok = strsep(&piece, " \t\n\r"))) {
			if (!*tok)
				continue;
			if (n == TOA_TRUST_MAX) {
				pr_err_ratelimited("%s: more than %d prefixes, from '%s' on\n",
						   what, TOA_TRUST_MAX, tok);
				err = -E2BIG;
				break;
			}
			err = toa_prefix_parse(what, tok, &p[n++]);
		}
	}
	if (!err) {
		*list = toa_trust_build(p, n);
		if (!*list)
			err = -ENOMEM;
	}
	kvfree(p);
	return err;
}

static struct toa_trust_net *toa_trust_net(const struct net *net)
{
	return net_generic(net, toa_trust_net_id);
}

static void toa_trust_free_rcu(struct rcu_head *rcu)
{
	kvfree(container_of(rcu, struct toa_trust, rcu));
}

/* Puts @list in force in @net; readers still on the old one finish first. */
static void toa_trust_replace(struct net *net, struct toa_trust *list)
{
	struct toa_trust *old;

	mutex_lock(&toa_trust_mutex);
	old = rcu_replace_pointer(toa_trust_net(net)->list, list,
				  lockdep_is_held(&toa_trust_mutex));
	mutex_unlock(&toa_trust_mutex);
	if (old)
		call_rcu(&old->rcu, toa_trust_free_rcu);
}

static bool toa_trust_has(const struct toa_trust *t,
			  enum toa_trust_family family, struct toa_u128 addr)
{
	const struct toa_range *r = t->range;
	unsigned int lo = 0, hi = t->count[family];

	if (family == TOA_TRUST_IPV6)
		r += t->count[TOA_TRUST_IPV4];
	/* The last range that starts at or before @addr. */
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (toa_u128_cmp(r[mid].first, addr) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && toa_u128_cmp(addr, r[lo - 1].last) <= 0;
}

/*
 * Whether TOA on @skb, the segment that completes a handshake in @net, may
 * be used: its network source is trusted by @net's list and by the initial
 * namespace's, where they exist. An IPv4 client of a dual-stack listener
 * comes as IPv4, and is matched against the IPv4 ranges.
 */
bool toa_trust_allows(const struct net *net, const struct sk_buff *skb)
{
	const struct toa_trust *own, *init = NULL;
	enum toa_trust_family family;
	struct toa_u128 addr;
	bool ok;

	if (skb->protocol == htons(ETH_P_IP)) {
		family = TOA_TRUST_IPV4;
		addr = (struct toa_u128){ .lo = ntohl(ip_hdr(skb)->saddr) };
	} else {
		family = TOA_TRUST_IPV6;
		addr = toa_u128_from_ip6(&ipv6_hdr(skb)->saddr);
	}

	rcu_read_lock();
	own = rcu_dereference(toa_trust_net(net)->list);
	if (!net_eq(net, &init_net))
		init = rcu_dereference(toa_trust_net(&init_net)->list);
	ok = (!own || toa_trust_has(own, family, addr)) &&
	     (!init || toa_trust_has(init, family, addr));
	rcu_read_unlock();
	return ok;
}

/* A range as the fewest prefixes that cover it exactly, one a line. */
static void toa_trust_show_range(struct seq_file *seq,
				 enum toa_trust_family family,
				 const struct toa_range *r)
{
	unsigned int bits = toa_trust_bits[family];
	struct toa_u128 first = r->first, end;
	char buf[64];

	for (;;) {
		unsigned int host = 0;

		/* The largest block aligned at first that ends by last. */
		while (host < bits) {
			struct toa_u128 m = toa_u128_mask(host + 1);

			end.hi = first.hi | m.hi;
			end.lo = first.lo | m.lo;
			if ((first.hi & m.hi) || (first.lo & m.lo) ||
			    toa_u128_cmp(end, r->last) > 0)
				break;
			host++;
		}
		toa_prefix_format(buf, sizeof(buf), family, first, bits - host);
		seq_printf(seq, "%s\n", buf);

		end.hi = first.hi | toa_u128_mask(host).hi;
		end.lo = first.lo | toa_u128_mask(host).lo;
		if (!toa_u128_cmp(end, r->last))
			break;
		first = end;
		toa_u128_inc(&first);
	}
}

static int toa_trust_show(struct seq_file *seq, void *v)
{
	const struct toa_trust *t;
	unsigned int i;

	rcu_read_lock();
	t = rcu_dereference(toa_trust_net(seq->private)->list);
	for (i = 0; t && i < t->count[TOA_TRUST_IPV4] + t->count[TOA_TRUST_IPV6];
	     i++)
		toa_trust_show_range(seq, i < t->count[TOA_TRUST_IPV4] ?
				     TOA_TRUST_IPV4 : TOA_TRUST_IPV6,
				     &t->range[i]);
	rcu_read_unlock();
	return 0;
}

static int toa_trust_open(struct inode *inode, struct file *file)
{
	return single_open(file, toa_trust_show, pde_data(inode));
}

/*
 * Replaces the namespace's list with the one written, whole, in one write:
 * an empty write (a lone newline) removes it. The writer and whoever opened
 * the file both need CAP_NET_ADMIN over the namespace.
 */
static ssize_t toa_trust_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	struct net *net = ((struct seq_file *)file->private_data)->private;
	struct toa_trust *list;
	char *text;
	int err;

	if (!file_ns_capable(file, net->user_ns, CAP_NET_ADMIN) ||
	    !ns_capable(net->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	if (count > PAGE_SIZE) {
		pr_err_ratelimited("%s: a write of %zu bytes, more than a page (%lu)\n",
				   TOA_TRUST_PROC, count, PAGE_SIZE);
		return -E2BIG;
	}
	text = memdup_user_nul(ubuf, count);
	if (IS_ERR(text))
		return PTR_ERR(text);
	err = toa_trust_parse(text, TOA_TRUST_PROC, &list);
	kfree(text);
	if (err)
		return err;
	toa_trust_replace(net, list);
	return count;
}

static const struct proc_ops toa_trust_proc_ops = {
	.proc_open = toa_trust_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
	.proc_write = toa_trust_write,
};

static int __net_init toa_trust_net_init(struct net *net)
{
	kuid_t uid = make_kuid(net->user_ns, 0);
	kgid_t gid = make_kgid(net->user_ns, 0);
	struct proc_dir_entry *pde;

	pde = proc_create_data(TOA_TRUST_PROC, 0644, net->proc_net,
			       &toa_trust_proc_ops, net);
	if (!pde)
		return -ENOMEM;
	/* A container's root owns its own namespace's file. */
	if (uid_valid(uid) && gid_valid(gid))
		proc_set_user(pde, uid, gid);
	if (net_eq(net, &init_net)) {
		RCU_INIT_POINTER(toa_trust_net(net)->list, toa_trust_at_load);
		toa_trust_at_load = NULL;
	}
	return 0;
}

static void __net_exit toa_trust_net_exit(struct net *net)
{
	remove_proc_entry(TOA_TRUST_PROC, net->proc_net);
	toa_trust_replace(net, NULL);
}

static struct pernet_operations toa_trust_net_ops = {
	.init = toa_trust_net_init,
	.exit = toa_trust_net_exit,
	.id = &toa_trust_net_id,
	.size = sizeof(struct toa_trust_net),
};

int toa_trust_init(void)
{
	char *text;
	int err;

	if (trusted) {
		text = kstrdup(trusted, GFP_KERNEL);
		if (!text)
			return -ENOMEM;
		err = toa_trust_parse(text, "trusted=", &toa_trust_at_load);
		kfree(text);
		if (err)
			return err;
	}
	if (!toa_trust_at_load)
		pr_warn("TOA is accepted from any source: any host that reaches this server directly can name any client address. Give the proxies' prefixes in trusted= or /proc/net/toa_trusted (README: Security)\n");

	err = register_pernet_subsys(&toa_trust_net_ops);
	if (err) {
		kvfree(toa_trust_at_load);
		toa_trust_at_load = NULL;
		rcu_barrier();
	}
	return err;
}

void toa_trust_uninit(void)
{
	unregister_pernet_subsys(&toa_trust_net_ops);
	/* The lists replaced or dropped are freed before the module goes. */
	rcu_barrier();
}
