// SPDX-License-Identifier: GPL-2.0
/*
 * getsockopt(fd, IPPROTO_IP, TOA_SO_GET_LOOKUP) as DPVS's toa offers it, so
 * servers written for DPVS's NAT64 find the client's address on an IPv4
 * socket through the interface they already use.
 */
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/uaccess.h>
#include "toa.h"

static int toa_sockopt_get(struct sock *sk, int optval, void __user *user,
			   int *len)
{
	struct toa_peer6 peer;

	if (*len < (int)sizeof(peer))
		return -EINVAL;
	memset(&peer, 0, sizeof(peer));
	if (!toa_sock_peer6(sk, &peer.saddr, &peer.sport))
		return -ENOENT;
	if (copy_to_user(user, &peer, sizeof(peer)))
		return -EFAULT;
	*len = sizeof(peer);
	return 0;
}

static struct nf_sockopt_ops toa_sockopt_ops = {
	.pf = PF_INET,
	.get_optmin = TOA_SO_GET_LOOKUP,
	.get_optmax = TOA_SO_GET_LOOKUP + 1,
	.get = toa_sockopt_get,
	.owner = THIS_MODULE,
};

int toa_sockopt_init(void)
{
	return nf_register_sockopt(&toa_sockopt_ops);
}

void toa_sockopt_uninit(void)
{
	nf_unregister_sockopt(&toa_sockopt_ops);
}
