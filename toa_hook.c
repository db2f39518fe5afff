// SPDX-License-Identifier: GPL-2.0
/*
 * The hooks, through ftrace as live patching uses it: kernel text and ops
 * tables are never written.
 *
 * - tcp_v4/v6_syn_recv_sock are redirected to wrappers that call the original
 *   and then keep the TOA address of the new socket.
 * - inet_getname and inet6_getname are redirected only for getpeername() and
 *   accept() on a TOA socket, to toa_getname(), which answers on its own.
 *   Every other call runs the kernel's function untouched.
 * - inet_sock_destruct, the end of every inet socket, is only observed, to
 *   drop the socket's address.
 *
 * No wrapper ever sleeps, which is what lets unloading wait for them all.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/if_ether.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <net/sock.h>
#include <net/inet_common.h>
#include <net/inet_connection_sock.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/tcp.h>
#include "toa.h"

struct toa_hook {
	const char *name;
	unsigned long target;	/* the kernel function hooked */
	unsigned long wrapper;	/* where its calls go instead, if anywhere */
	struct ftrace_ops ops;
};

static struct sock *(*toa_tcp_v4_syn_recv_sock)(SYN_RECV_SOCK_PARAMS);
static struct sock *(*toa_tcp_v6_syn_recv_sock)(SYN_RECV_SOCK_PARAMS);

static struct sock *toa_v4_syn_recv_sock(SYN_RECV_SOCK_PARAMS)
{
	struct sock *child = SYN_RECV_SOCK_CALL(toa_tcp_v4_syn_recv_sock);

	/* Without own_req another CPU made this connection's socket. */
	if (child && *own_req)
		toa_sock_attach(child, skb);
	return child;
}

static struct sock *toa_v6_syn_recv_sock(SYN_RECV_SOCK_PARAMS)
{
	struct sock *child = SYN_RECV_SOCK_CALL(toa_tcp_v6_syn_recv_sock);

	/* An IPv4 client of a dual-stack listener went through the v4 hook. */
	if (child && *own_req && skb->protocol == htons(ETH_P_IPV6))
		toa_sock_attach(child, skb);
	return child;
}

/* Stands in for inet_getname() once toa_sock_getname() filled @uaddr. */
static int toa_getname(struct socket *sock, struct sockaddr *uaddr, int peer)
{
	return uaddr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					       sizeof(struct sockaddr_in);
}

static void notrace toa_ftrace_redirect(unsigned long ip,
					unsigned long parent_ip,
					struct ftrace_ops *ops,
					struct ftrace_regs *fregs)
{
	struct toa_hook *hook = container_of(ops, struct toa_hook, ops);

	/* The wrapper's own call of the original must reach the original. */
	if (!within_module(parent_ip, THIS_MODULE))
		toa_ftrace_set_ip(fregs, hook->wrapper);
}

static void notrace toa_ftrace_getname(unsigned long ip,
				       unsigned long parent_ip,
				       struct ftrace_ops *ops,
				       struct ftrace_regs *fregs)
{
	struct socket *sock = (void *)toa_ftrace_arg(fregs, 0);
	struct sockaddr *uaddr = (void *)toa_ftrace_arg(fregs, 1);
	int peer = toa_ftrace_arg(fregs, 2);

	if (toa_sock_getname(sock, uaddr, peer))
		toa_ftrace_set_ip(fregs, (unsigned long)toa_getname);
}

static void notrace toa_ftrace_destruct(unsigned long ip,
					unsigned long parent_ip,
					struct ftrace_ops *ops,
					struct ftrace_regs *fregs)
{
	toa_sock_destroy((void *)toa_ftrace_arg(fregs, 0));
}

#define TOA_HOOK(fn, addr, callback, to, flag) {			\
	.name = fn,							\
	.target = (unsigned long)(addr),				\
	.wrapper = (unsigned long)(to),					\
	.ops = {							\
		.func = (callback),					\
		.flags = TOA_FTRACE_FLAGS | (flag),			\
	},								\
}

#define TOA_OBSERVE(fn, callback) TOA_HOOK(#fn, fn, callback, NULL, 0)
#define TOA_REDIRECT(fn, addr, callback, to) \
	TOA_HOOK(fn, addr, callback, to, FTRACE_OPS_FL_IPMODIFY)

enum { TOA_HOOK_V4_SYN_RECV_SOCK = 1, TOA_HOOK_V6_SYN_RECV_SOCK = 2 };

/*
 * Registered in this order and removed in reverse: a socket's address is
 * dropped at its end for as long as anything can look it up.
 */
static struct toa_hook toa_hooks[] = {
	TOA_OBSERVE(inet_sock_destruct, toa_ftrace_destruct),
	/* Neither is exported everywhere: found at init. */
	[TOA_HOOK_V4_SYN_RECV_SOCK] =
	TOA_REDIRECT("tcp_v4_syn_recv_sock", NULL,
		     toa_ftrace_redirect, toa_v4_syn_recv_sock),
	[TOA_HOOK_V6_SYN_RECV_SOCK] =
	TOA_REDIRECT("tcp_v6_syn_recv_sock", NULL,
		     toa_ftrace_redirect, toa_v6_syn_recv_sock),
	TOA_REDIRECT("inet_getname", inet_getname,
		     toa_ftrace_getname, toa_getname),
	TOA_REDIRECT("inet6_getname", inet6_getname,
		     toa_ftrace_getname, toa_getname),
};

/* Asks a TCP socket of @family where its syn_recv_sock is. */
static int toa_find_syn_recv_sock(int family, int hook,
				  struct sock *(**fn)(SYN_RECV_SOCK_PARAMS))
{
	struct socket *sock;
	int err;

	err = sock_create_kern(&init_net, family, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err)
		return err;
	*fn = inet_csk(sock->sk)->icsk_af_ops->syn_recv_sock;
	toa_hooks[hook].target = (unsigned long)*fn;
	sock_release(sock);
	return 0;
}

static int toa_hook_register(struct toa_hook *hook)
{
	int err;

	err = ftrace_set_filter_ip(&hook->ops, hook->target, 0, 0);
	if (err) {
		pr_err("cannot trace %s (error %d): is ftrace enabled?\n",
		       hook->name, err);
		return err;
	}
	err = register_ftrace_function(&hook->ops);
	if (err) {
		ftrace_set_filter_ip(&hook->ops, hook->target, 1, 0);
		pr_err("cannot hook %s (error %d): another module or a live patch may hook it already\n",
		       hook->name, err);
	}
	return err;
}

static void toa_hook_unregister(struct toa_hook *hook)
{
	unregister_ftrace_function(&hook->ops);
	ftrace_set_filter_ip(&hook->ops, hook->target, 1, 0);
}

static void toa_hooks_unregister(int count)
{
	while (count--)
		if (toa_hooks[count].target)
			toa_hook_unregister(&toa_hooks[count]);
	/*
	 * Calls redirected before this point may still be in a wrapper or in
	 * toa_getname(): in softirq context (syn_recv_sock, destruct) or
	 * preempted in a task. None of them sleeps, so these two grace
	 * periods see them all out.
	 */
	synchronize_rcu_tasks();
	synchronize_rcu();
}

int toa_hook_init(void)
{
	int err, i;

	err = toa_find_syn_recv_sock(PF_INET, TOA_HOOK_V4_SYN_RECV_SOCK,
				     &toa_tcp_v4_syn_recv_sock);
	if (err)
		return err;
	err = toa_find_syn_recv_sock(PF_INET6, TOA_HOOK_V6_SYN_RECV_SOCK,
				     &toa_tcp_v6_syn_recv_sock);
	if (err == -EAFNOSUPPORT)
		pr_info("IPv6 is disabled: only IPv4 connections carry TOA\n");
	else if (err)
		return err;

	for (i = 0; i < ARRAY_SIZE(toa_hooks); i++) {
		if (!toa_hooks[i].target)
			continue;
		err = toa_hook_register(&toa_hooks[i]);
		if (err) {
			toa_hooks_unregister(i);
			return err;
		}
	}
	return 0;
}

void toa_hook_uninit(void)
{
	toa_hooks_unregister(ARRAY_SIZE(toa_hooks));
}
