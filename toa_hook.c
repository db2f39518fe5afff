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
 * - inet_sock_destruct, the end of every inet socket, and tcp_disconnect(),
 *   after which a socket may connect elsewhere, are only observed, to drop
 *   the socket's address.
 *
 * Every hook is permanent, as a live patch is: sysctl kernel.ftrace_enabled=0
 * would otherwise stop the observers and leave records of ended sockets.
 * No wrapper ever sleeps, which is what lets unloading wait for them all.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/kallsyms.h>
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

static struct sock *(*orig_tcp_v4_syn_recv_sock)(SYN_RECV_SOCK_PARAMS);
static struct sock *(*orig_tcp_v6_syn_recv_sock)(SYN_RECV_SOCK_PARAMS);

/*
 * The segment tcp_v6_syn_recv_sock() is handling on this CPU. For an IPv4
 * client of a dual-stack listener it calls tcp_v4_syn_recv_sock(); whether
 * that call reaches the v4 wrapper depends on the compiler (a tail call
 * comes from within toa and is not redirected), so the v6 wrapper attaches
 * both families and the v4 wrapper leaves the segments of its caller alone.
 * syn_recv_sock runs with bottom halves off: no other segment runs on this
 * CPU in between.
 */
static DEFINE_PER_CPU(const struct sk_buff *, toa_v6_skb);

static struct sock *toa_v4_syn_recv_sock(SYN_RECV_SOCK_PARAMS)
{
	struct sock *child = SYN_RECV_SOCK_CALL(orig_tcp_v4_syn_recv_sock);

	/* Without own_req another CPU made this connection's socket. */
	if (child && *own_req && __this_cpu_read(toa_v6_skb) != skb)
		toa_sock_attach(child, skb);
	/* Not a tail call: the original must see a caller outside toa. */
	return child;
}

static struct sock *toa_v6_syn_recv_sock(SYN_RECV_SOCK_PARAMS)
{
	struct sock *child;

	__this_cpu_write(toa_v6_skb, skb);
	child = SYN_RECV_SOCK_CALL(orig_tcp_v6_syn_recv_sock);
	__this_cpu_write(toa_v6_skb, NULL);
	if (child && *own_req)
		toa_sock_attach(child, skb);
	return child;
}

/* The wrappers stand in for the kernel's functions: same prototypes. */
static_assert(__same_type(&toa_v4_syn_recv_sock,
			  ((struct inet_connection_sock_af_ops *)NULL)->syn_recv_sock));
static_assert(__same_type(&toa_v6_syn_recv_sock,
			  ((struct inet_connection_sock_af_ops *)NULL)->syn_recv_sock));

/* Stands in for inet_getname() once toa_sock_getname() filled @uaddr. */
static int toa_getname(struct socket *sock, struct sockaddr *uaddr, int peer)
{
	return uaddr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					       sizeof(struct sockaddr_in);
}

static_assert(__same_type(&toa_getname, ((const struct proto_ops *)NULL)->getname));

static void notrace toa_ftrace_redirect(unsigned long ip,
					unsigned long parent_ip,
					struct ftrace_ops *ops,
					struct ftrace_regs *fregs)
{
	struct toa_hook *hook = container_of(ops, struct toa_hook, ops);

	/* The wrapper's own call of the original must reach the original. */
	if (!within_module(parent_ip, THIS_MODULE))
		ftrace_regs_set_instruction_pointer(fregs, hook->wrapper);
}

static void notrace toa_ftrace_getname(unsigned long ip,
				       unsigned long parent_ip,
				       struct ftrace_ops *ops,
				       struct ftrace_regs *fregs)
{
	struct socket *sock = (void *)ftrace_regs_get_argument(fregs, 0);
	struct sockaddr *uaddr = (void *)ftrace_regs_get_argument(fregs, 1);
	int peer = ftrace_regs_get_argument(fregs, 2);

	if (toa_sock_getname(sock, uaddr, peer))
		ftrace_regs_set_instruction_pointer(fregs,
						    (unsigned long)toa_getname);
}

static void notrace toa_ftrace_detach(unsigned long ip,
				      unsigned long parent_ip,
				      struct ftrace_ops *ops,
				      struct ftrace_regs *fregs)
{
	toa_sock_detach((void *)ftrace_regs_get_argument(fregs, 0));
}

#define TOA_HOOK(fn, addr, callback, to, flag) {			\
	.name = fn,							\
	.target = (unsigned long)(addr),				\
	.wrapper = (unsigned long)(to),					\
	.ops = {							\
		.func = (callback),					\
		.flags = TOA_FTRACE_FLAGS | FTRACE_OPS_FL_PERMANENT |	\
			 (flag),					\
	},								\
}

#define TOA_OBSERVE(fn, callback) TOA_HOOK(#fn, fn, callback, NULL, 0)
#define TOA_REDIRECT(fn, addr, callback, to) \
	TOA_HOOK(fn, addr, callback, to, FTRACE_OPS_FL_IPMODIFY)

/* A kernel built without IPv6 has no inet6_getname(). */
#if IS_ENABLED(CONFIG_IPV6)
#define TOA_INET6_GETNAME inet6_getname
#else
#define TOA_INET6_GETNAME NULL
#endif

enum {
	TOA_HOOK_SOCK_DESTRUCT,
	TOA_HOOK_TCP_DISCONNECT,
	TOA_HOOK_V4_SYN_RECV_SOCK,
	TOA_HOOK_V6_SYN_RECV_SOCK,
	TOA_HOOK_INET_GETNAME,
	TOA_HOOK_INET6_GETNAME,
	TOA_HOOK_COUNT
};

/*
 * Registered in this order and removed in reverse: a socket's address is
 * dropped at its end for as long as anything can look it up.
 */
static struct toa_hook toa_hooks[TOA_HOOK_COUNT] = {
	[TOA_HOOK_SOCK_DESTRUCT] =
	TOA_OBSERVE(inet_sock_destruct, toa_ftrace_detach),
	/* These three are not exported everywhere: found at init. */
	[TOA_HOOK_TCP_DISCONNECT] =
	TOA_HOOK("tcp_disconnect", NULL, toa_ftrace_detach, NULL, 0),
	[TOA_HOOK_V4_SYN_RECV_SOCK] =
	TOA_REDIRECT("tcp_v4_syn_recv_sock", NULL,
		     toa_ftrace_redirect, toa_v4_syn_recv_sock),
	[TOA_HOOK_V6_SYN_RECV_SOCK] =
	TOA_REDIRECT("tcp_v6_syn_recv_sock", NULL,
		     toa_ftrace_redirect, toa_v6_syn_recv_sock),
	[TOA_HOOK_INET_GETNAME] =
	TOA_REDIRECT("inet_getname", inet_getname,
		     toa_ftrace_getname, toa_getname),
	[TOA_HOOK_INET6_GETNAME] =
	TOA_REDIRECT("inet6_getname", TOA_INET6_GETNAME,
		     toa_ftrace_getname, toa_getname),
};

/*
 * True if @addr is the kernel function @name (IPv6 may be a module). Other
 * TOA modules swap the ops' pointers for their own functions: toa would then
 * hook theirs, and stop working when they unload.
 */
static bool __init toa_kernel_fn(unsigned long addr, const char *name)
{
	static char sym[KSYM_SYMBOL_LEN] __initdata;
	size_t len = strlen(name);

	if (!IS_ENABLED(CONFIG_KALLSYMS))
		return true;
	sprint_symbol_no_offset(sym, addr);
	if (!strncmp(sym, name, len) &&
	    (!sym[len] || !strcmp(sym + len, " [ipv6]")))
		return true;
	pr_err("%s is %s, not the kernel's own: another TOA module replaced it (look for it in lsmod: toa, vtoa, ctoa, ...); unload that module first\n",
	       name, sym);
	return false;
}

/*
 * Asks a TCP socket of @family where its syn_recv_sock and disconnect are,
 * and checks that they and getname are the kernel's own.
 */
static int __init toa_find_syn_recv_sock(int family, int hook,
					 const char *getname_name,
					 unsigned long getname,
					 struct sock *(**fn)(SYN_RECV_SOCK_PARAMS))
{
	unsigned long disconnect;
	struct socket *sock;
	int err;

	err = sock_create_kern(&init_net, family, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err)
		return err;
	err = -EBUSY;
	*fn = inet_csk(sock->sk)->icsk_af_ops->syn_recv_sock;
	disconnect = (unsigned long)sock->sk->sk_prot->disconnect;
	if (toa_kernel_fn((unsigned long)*fn, toa_hooks[hook].name) &&
	    toa_kernel_fn(disconnect, "tcp_disconnect") &&
	    toa_kernel_fn((unsigned long)sock->ops->getname, getname_name)) {
		if ((unsigned long)sock->ops->getname == getname) {
			toa_hooks[hook].target = (unsigned long)*fn;
			toa_hooks[TOA_HOOK_TCP_DISCONNECT].target = disconnect;
			err = 0;
		} else {
			pr_err("%s of this kernel's TCP sockets is not the one toa was built for\n",
			       getname_name);
		}
	}
	sock_release(sock);
	return err;
}

static int toa_hook_register(struct toa_hook *hook)
{
	int err;

	err = ftrace_set_filter_ip(&hook->ops, hook->target, 0, 0);
	if (err) {
		pr_err("cannot trace %s (error %d): this kernel has no ftrace for it\n",
		       hook->name, err);
		return err;
	}
	err = register_ftrace_function(&hook->ops);
	if (err) {
		ftrace_set_filter_ip(&hook->ops, hook->target, 1, 0);
		if (err == -EBUSY)
			pr_err("cannot hook %s: a live patch or another module already redirects it (see the I flag in /sys/kernel/tracing/enabled_functions)\n",
			       hook->name);
		else
			pr_err("cannot hook %s (error %d)\n", hook->name, err);
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
	/*
	 * Calls redirected before a hook is removed may still be in a wrapper
	 * or in toa_getname(): in softirq context or preempted in a task.
	 * unregister_ftrace_function() waits for them itself, as for its
	 * callbacks, with the RCU-tasks grace periods of a module's ops.
	 */
	while (count--)
		if (toa_hooks[count].target)
			toa_hook_unregister(&toa_hooks[count]);
}

int __init toa_hook_init(void)
{
	int err, i;

	err = toa_find_syn_recv_sock(PF_INET, TOA_HOOK_V4_SYN_RECV_SOCK,
				     "inet_getname", (unsigned long)inet_getname,
				     &orig_tcp_v4_syn_recv_sock);
	if (err)
		return err;
	err = toa_find_syn_recv_sock(PF_INET6, TOA_HOOK_V6_SYN_RECV_SOCK,
				     "inet6_getname",
				     (unsigned long)TOA_INET6_GETNAME,
				     &orig_tcp_v6_syn_recv_sock);
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
