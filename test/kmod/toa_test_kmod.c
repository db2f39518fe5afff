// SPDX-License-Identifier: GPL-2.0
/*
 * What toa's tests need from inside the kernel, built beside toa.ko for each
 * test kernel and never installed:
 *
 * - an in-kernel server, as nfsd or ksmbd are: write a port to
 *   /proc/toa_test_kpeer to listen on it (IPv4, the writer's namespace);
 *   a read accepts one connection and says what kernel_getpeername() gave:
 *   "<address> <port> <length>";
 * - squat_proc=1: /proc/net/toa_stats made in every namespace before toa can;
 * - ipmodify=1: tcp_v4_syn_recv_sock redirected (to itself) before toa can,
 *   as a live patch or another hooking module would.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/in.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/inet_connection_sock.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include "compat.h"

static bool squat_proc;
module_param(squat_proc, bool, 0444);
static bool ipmodify;
module_param(ipmodify, bool, 0444);

static DEFINE_MUTEX(kpeer_lock);
static struct socket *kpeer_listener;

static void kpeer_close(void)
{
	if (kpeer_listener)
		sock_release(kpeer_listener);
	kpeer_listener = NULL;
}

static ssize_t kpeer_write(struct file *file, const char __user *buf,
			   size_t len, loff_t *pos)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	u16 port;
	int err;

	err = kstrtou16_from_user(buf, len, 10, &port);
	if (err)
		return err;
	sin.sin_port = htons(port);
	mutex_lock(&kpeer_lock);
	kpeer_close();
	err = sock_create_kern(current->nsproxy->net_ns, AF_INET, SOCK_STREAM,
			       IPPROTO_TCP, &kpeer_listener);
	if (!err) {
		sock_set_reuseaddr(kpeer_listener->sk);
		kpeer_listener->sk->sk_rcvtimeo = 20 * HZ;
		err = kernel_bind(kpeer_listener,
				  (struct sockaddr_unsized *)&sin,
				  sizeof(sin));
	}
	if (!err)
		err = kernel_listen(kpeer_listener, 16);
	if (err)
		kpeer_close();
	mutex_unlock(&kpeer_lock);
	return err ?: len;
}

static int kpeer_show(struct seq_file *seq, void *v)
{
	struct sockaddr_storage peer;
	struct socket *conn;
	int err, len;

	mutex_lock(&kpeer_lock);
	err = kpeer_listener ? kernel_accept(kpeer_listener, &conn, 0) :
			       -ENOTCONN;
	mutex_unlock(&kpeer_lock);
	if (err)
		return err;
	memset(&peer, 0, sizeof(peer));
	len = kernel_getpeername(conn, (struct sockaddr *)&peer);
	if (len >= 0)
		seq_printf(seq, "%pISc %u %d\n", &peer,
			   ntohs(((struct sockaddr_in *)&peer)->sin_port), len);
	sock_release(conn);
	return len < 0 ? len : 0;
}

static int kpeer_open(struct inode *inode, struct file *file)
{
	return single_open(file, kpeer_show, NULL);
}

static const struct proc_ops kpeer_ops = {
	.proc_open = kpeer_open,
	.proc_read = seq_read,
	.proc_write = kpeer_write,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

static int squat_show(struct seq_file *seq, void *v)
{
	seq_puts(seq, "not toa's\n");
	return 0;
}

static int __net_init squat_net_init(struct net *net)
{
	proc_create_single("toa_stats", 0444, net->proc_net, squat_show);
	return 0;
}

static void __net_exit squat_net_exit(struct net *net)
{
	remove_proc_subtree("toa_stats", net->proc_net);
}

static struct pernet_operations squat_net_ops = {
	.init = squat_net_init,
	.exit = squat_net_exit,
};

static void notrace ipmodify_nop(unsigned long ip, unsigned long parent_ip,
				 struct ftrace_ops *ops,
				 struct ftrace_regs *fregs)
{
}

static struct ftrace_ops ipmodify_ops = {
	.func = ipmodify_nop,
	.flags = TOA_FTRACE_FLAGS | FTRACE_OPS_FL_IPMODIFY,
};

/* The function redirected; its entry in ipmodify_ops' filter is removed again at unload. */
static unsigned long ipmodify_fn;

static int ipmodify_init(void)
{
	struct socket *sock;
	int err;

	err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err)
		return err;
	ipmodify_fn = (unsigned long)inet_csk(sock->sk)->icsk_af_ops->syn_recv_sock;
	sock_release(sock);
	err = ftrace_set_filter_ip(&ipmodify_ops, ipmodify_fn, 0, 0);
	if (err)
		return err;
	err = register_ftrace_function(&ipmodify_ops);
	if (err)
		ftrace_set_filter_ip(&ipmodify_ops, ipmodify_fn, 1, 0);
	return err;
}

/*
 * The filter lives in memory ftrace allocated for the ops: left with an entry, it
 * would leak at unload (kmemleak on the debug kernel found it).
 */
static void ipmodify_uninit(void)
{
	unregister_ftrace_function(&ipmodify_ops);
	ftrace_set_filter_ip(&ipmodify_ops, ipmodify_fn, 1, 0);
}

static int __init toa_test_kmod_init(void)
{
	int err;

	if (!proc_create("toa_test_kpeer", 0600, NULL, &kpeer_ops))
		return -ENOMEM;
	err = squat_proc ? register_pernet_subsys(&squat_net_ops) : 0;
	if (!err && ipmodify) {
		err = ipmodify_init();
		if (err && squat_proc)
			unregister_pernet_subsys(&squat_net_ops);
	}
	if (err)
		remove_proc_entry("toa_test_kpeer", NULL);
	return err;
}

static void __exit toa_test_kmod_exit(void)
{
	if (ipmodify)
		ipmodify_uninit();
	if (squat_proc)
		unregister_pernet_subsys(&squat_net_ops);
	remove_proc_entry("toa_test_kpeer", NULL);
	kpeer_close();
}

module_init(toa_test_kmod_init);
module_exit(toa_test_kmod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("toa's tests: an in-kernel server and a neighbour that gets there first");
