/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel difference lives here, so that the rest of toa reads as if
 * written for the newest kernel. Kbuild probes the headers for each one:
 * stable kernels backport API changes, so version numbers would lie.
 */
#ifndef TOA_COMPAT_H
#define TOA_COMPAT_H

#include <linux/ftrace.h>

#ifdef COMPAT_NO_FTRACE_REGS
/* Before 5.11, ftrace callbacks were handed the pt_regs themselves. */
#define ftrace_regs pt_regs
static __always_inline struct pt_regs *ftrace_get_regs(struct pt_regs *regs)
{
	return regs;
}
#endif

/*
 * syn_recv_sock gained opt_child_init, also in stable kernels (6.1.192).
 * SYN_RECV_SOCK_CALL(fn) passes a wrapper's own parameters on to fn.
 */
#ifdef COMPAT_SYN_RECV_SOCK_OPT_CHILD_INIT
#define SYN_RECV_SOCK_PARAMS						\
	const struct sock *sk, struct sk_buff *skb,			\
	struct request_sock *req, struct dst_entry *dst,		\
	struct request_sock *req_unhash, bool *own_req,			\
	void (*opt_child_init)(struct sock *newsk, const struct sock *sk)
#define SYN_RECV_SOCK_CALL(fn) \
	fn(sk, skb, req, dst, req_unhash, own_req, opt_child_init)
#else
#define SYN_RECV_SOCK_PARAMS						\
	const struct sock *sk, struct sk_buff *skb,			\
	struct request_sock *req, struct dst_entry *dst,		\
	struct request_sock *req_unhash, bool *own_req
#define SYN_RECV_SOCK_CALL(fn) fn(sk, skb, req, dst, req_unhash, own_req)
#endif

#endif /* TOA_COMPAT_H */
