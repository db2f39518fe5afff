/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel difference lives here, so that the rest of toa reads as if
 * written for the newest kernel. Kbuild probes the headers for each one:
 * stable kernels backport API changes, so version numbers would lie.
 */
#ifndef TOA_COMPAT_H
#define TOA_COMPAT_H

#include <linux/ftrace.h>

/*
 * How a hook reads its function's arguments and sends the call elsewhere:
 * the kernel's ftrace_regs_get_argument() and
 * ftrace_regs_set_instruction_pointer(), defined here where a kernel lacks
 * them. Where ftrace can hand over just the argument registers (WITH_ARGS,
 * 5.11+), the hooks do without a whole saved pt_regs, as live patching does:
 * saving it was most of what a hooked call cost. TOA_FTRACE_FLAGS says which
 * of the two a hook's ftrace_ops asks for.
 */
#ifdef COMPAT_NO_FTRACE_REGS
/* Before 5.11, ftrace callbacks were handed the pt_regs themselves. */
#define ftrace_regs pt_regs
static __always_inline struct pt_regs *ftrace_get_regs(struct pt_regs *regs)
{
	return regs;
}
#endif

/*
 * Redirecting a call needs ftrace to hand over the registers; arm64 has done
 * so since 5.5. A kernel whose ftrace only observes is refused here, at build
 * time, rather than by every hook at load.
 */
#if !defined(CONFIG_DYNAMIC_FTRACE_WITH_REGS) && \
	!defined(CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS)
#error "toa needs ftrace that redirects calls (DYNAMIC_FTRACE_WITH_REGS/ARGS; arm64: 5.5+)"
#endif

#if defined(COMPAT_NO_FTRACE_REGS) || \
	!defined(CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS)
/*
 * A whole saved pt_regs. Without WITH_ARGS, the kernel's own
 * ftrace_regs_set_instruction_pointer() does nothing.
 */
#define TOA_FTRACE_FLAGS FTRACE_OPS_FL_SAVE_REGS
#undef ftrace_regs_get_argument
#define ftrace_regs_get_argument(fregs, n) \
	regs_get_kernel_argument(ftrace_get_regs(fregs), n)
#undef ftrace_regs_set_instruction_pointer
#define ftrace_regs_set_instruction_pointer(fregs, ip) \
	instruction_pointer_set(ftrace_get_regs(fregs), ip)
#else
#define TOA_FTRACE_FLAGS 0
/* Where the kernel has no accessor, ftrace_regs is a pt_regs (6.1). */
#ifdef COMPAT_NO_FTRACE_REGS_GET_ARGUMENT
#define ftrace_regs_get_argument(fregs, n) \
	regs_get_kernel_argument(&(fregs)->regs, n)
#endif
/* Its name before the ftrace_regs accessors were renamed (6.1). */
#ifdef COMPAT_FTRACE_INSTRUCTION_POINTER_SET
#define ftrace_regs_set_instruction_pointer ftrace_instruction_pointer_set
#endif
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

/* pde_data() was PDE_DATA() before 5.17. */
#ifdef COMPAT_PDE_DATA_UPPER
#define pde_data PDE_DATA
#endif

/* kernel_bind() takes a struct sockaddr_unsized from 6.19 (the tests' module). */
#ifndef COMPAT_SOCKADDR_UNSIZED
#define sockaddr_unsized sockaddr
#endif

#endif /* TOA_COMPAT_H */
