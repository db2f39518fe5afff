// SPDX-License-Identifier: GPL-2.0
/*
 * toa: the real client address behind an L4 proxy, taken from the TCP option
 * the proxy adds (TOA), returned by accept() and getpeername().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/stringify.h>
#include <net/tcp.h>
#include "toa.h"

/* The parser, built for user space too, cannot use the kernel's names. */
static_assert(TOA_OPT_EOL == TCPOPT_EOL);
static_assert(TOA_OPT_NOP == TCPOPT_NOP);
static_assert(TOA_OPT_TFO_KIND == TCPOPT_EXP);
static_assert(TOA_TFO_EXP_MAGIC == TCPOPT_FASTOPEN_MAGIC);

static int kinds[TOA_KINDS_MAX] = { 254, 253 };
static unsigned int kinds_count = 2;
module_param_array(kinds, int, &kinds_count, 0444);
MODULE_PARM_DESC(kinds,
		 "TCP option kinds that carry the client address (default 254,253; add 200 for Tencent CLB hybrid cloud and the original LVS)");

struct toa_kinds toa_kinds __read_mostly;

static const char * const toa_ipv6_on_ipv4_names[] = {
	[TOA_IPV6_ON_IPV4_SOCKADDR_IN6] = "sockaddr_in6",
	[TOA_IPV6_ON_IPV4_PROXY] = "proxy",
};

int toa_ipv6_on_ipv4 __read_mostly = TOA_IPV6_ON_IPV4_SOCKADDR_IN6;

/* A value that is not a name is refused and changes nothing. */
static int toa_ipv6_on_ipv4_set(const char *val, const struct kernel_param *kp)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(toa_ipv6_on_ipv4_names); i++) {
		if (sysfs_streq(val, toa_ipv6_on_ipv4_names[i])) {
			WRITE_ONCE(*(int *)kp->arg, i);
			return 0;
		}
	}
	pr_err("ipv6_on_ipv4=%.*s: not a choice; give sockaddr_in6 or proxy\n",
	       (int)strcspn(val, "\n"), val);
	return -EINVAL;
}

static int toa_ipv6_on_ipv4_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%s\n",
			  toa_ipv6_on_ipv4_names[READ_ONCE(*(int *)kp->arg)]);
}

static const struct kernel_param_ops toa_ipv6_on_ipv4_ops = {
	.set = toa_ipv6_on_ipv4_set,
	.get = toa_ipv6_on_ipv4_get,
};

module_param_cb(ipv6_on_ipv4, &toa_ipv6_on_ipv4_ops, &toa_ipv6_on_ipv4, 0644);
MODULE_PARM_DESC(ipv6_on_ipv4,
		 "What accept() and getpeername() on an IPv4 socket return for an IPv6 client: sockaddr_in6 (default; a server that sizes an IPv4 listener's addresses for IPv4, such as nginx's listen 80, drops the client) or proxy (the proxy's address, as without toa; the client through getsockopt(IPPROTO_IP, "
		 __stringify(TOA_SO_GET_LOOKUP)
		 ")); writable in /sys/module/toa/parameters");

/*
 * Kinds TCP itself uses (RFC 9293 registry) would hide real options. The
 * kernel names all but User Timeout and, before 6.7, TCP-AO.
 */
static bool toa_kind_usable(int kind)
{
	static const u8 tcp_kinds[] = {
		TCPOPT_EOL, TCPOPT_NOP, TCPOPT_MSS, TCPOPT_WINDOW,
		TCPOPT_SACK_PERM, TCPOPT_SACK, TCPOPT_TIMESTAMP, TCPOPT_MD5SIG,
		28 /* User Timeout, RFC 5482 */, 29 /* TCP-AO, RFC 5925 */,
		TCPOPT_MPTCP, TCPOPT_FASTOPEN,
	};
	int i;

	if (kind < 0 || kind > 255)
		return false;
	for (i = 0; i < ARRAY_SIZE(tcp_kinds); i++)
		if (kind == tcp_kinds[i])
			return false;
	return true;
}

static int __init toa_kinds_init(char *list, size_t size)
{
	size_t used = 0;
	unsigned int i;

	for (i = 0; i < kinds_count; i++) {
		if (!toa_kind_usable(kinds[i])) {
			pr_err("kinds=%d: not an option kind TOA can use (TCP's own kinds and values past 255 are refused)\n",
			       kinds[i]);
			return -EINVAL;
		}
		toa_kinds_add(&toa_kinds, kinds[i]);
		used += scnprintf(list + used, size - used, "%s%d",
				  i ? "," : "", kinds[i]);
	}
	if (!kinds_count) {
		pr_err("kinds= is empty: give at least one option kind\n");
		return -EINVAL;
	}
	return 0;
}

static int __init toa_init(void)
{
	char list[TOA_KINDS_MAX * sizeof("255,")];
	int err;

	err = toa_kinds_init(list, sizeof(list));
	if (err)
		return err;
	err = toa_stats_init();
	if (err)
		goto err_stats;
	err = toa_trust_init();
	if (err)
		goto err_trust;
	err = toa_sock_init();
	if (err)
		goto err_sock;
	err = toa_sockopt_init();
	if (err)
		goto err_sockopt;
	err = toa_hook_init();
	if (err)
		goto err_hook;

	pr_info("loaded: hooked tcp_v4/v6_syn_recv_sock, inet/inet6_getname and inet_sock_destruct; option kinds %s\n",
		list);
	return 0;

err_hook:
	toa_sockopt_uninit();
err_sockopt:
	toa_sock_uninit();
err_sock:
	toa_trust_uninit();
err_trust:
	toa_stats_uninit();
err_stats:
	pr_err("not loaded (error %d)\n", err);
	return err;
}

static void __exit toa_exit(void)
{
	toa_hook_uninit();
	toa_sockopt_uninit();
	toa_sock_uninit();
	toa_trust_uninit();
	toa_stats_uninit();
	pr_info("unloaded: open connections keep the proxy's address\n");
}

module_init(toa_init);
module_exit(toa_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("TCP Option Address: the real client address behind an L4 proxy");
MODULE_AUTHOR("The toa developers");
MODULE_VERSION(TOA_VERSION);	/* dkms.conf's PACKAGE_VERSION (Kbuild) */
