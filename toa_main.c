// SPDX-License-Identifier: GPL-2.0
/*
 * toa: the real client address behind an L4 proxy, taken from the TCP option
 * the proxy adds (TOA), returned by accept() and getpeername().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include "toa.h"

static int kinds[16] = { 254, 253 };
static unsigned int kinds_count = 2;
module_param_array(kinds, int, &kinds_count, 0444);
MODULE_PARM_DESC(kinds,
		 "TCP option kinds that carry the client address (default 254,253; add 200 for Tencent CLB hybrid cloud and the original LVS)");

struct toa_kinds toa_kinds __read_mostly;

/* Kinds TCP itself uses (RFC 9293 registry) would hide real options. */
static bool toa_kind_usable(int kind)
{
	static const u8 tcp_kinds[] = { 0, 1, 2, 3, 4, 5, 8, 19, 28, 29, 30, 34 };
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
	char list[64];
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
MODULE_VERSION("1.0.0");
