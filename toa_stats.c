// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU counters, shown in /proc/net/toa_stats: in a container's network
 * namespace, that namespace's sockets; in the initial one, the host's, so
 * that the host's admin sees every connection. A column per online CPU, and
 * one for the CPUs that are not online, whose counts would otherwise vanish
 * from the sums when a CPU is unplugged.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include "toa.h"

DEFINE_PER_CPU(struct toa_stats, toa_stats);

#define TOA_STAT_NAME(id, name)	name,
static const char * const toa_stat_names[TOA_STAT_COUNT] = {
	TOA_STATS(TOA_STAT_NAME)
};

#undef TOA_STAT_NAME

#define TOA_STATS_NAME_WIDTH	30
#define TOA_STATS_COLUMN_WIDTH	12

unsigned int toa_stats_net_id __read_mostly;

static int toa_stats_show(struct seq_file *seq, void *v)
{
	struct net *net = seq_file_single_net(seq);
	struct toa_stats __percpu *stats = &toa_stats;
	char label[TOA_STATS_NAME_WIDTH];
	bool offline;
	int cpu, stat;

	/* The file is there only while the namespace is: before its pre_exit. */
	if (!net_eq(net, &init_net))
		stats = ((struct toa_stats_net *)
			 net_generic(net, toa_stats_net_id))->stats;

	cpus_read_lock();
	offline = num_online_cpus() < num_possible_cpus();

	seq_printf(seq, "%*s", TOA_STATS_NAME_WIDTH, "");
	for_each_online_cpu(cpu) {
		snprintf(label, sizeof(label), "CPU%d", cpu);
		seq_printf(seq, "%*s", TOA_STATS_COLUMN_WIDTH, label);
	}
	if (offline)
		seq_printf(seq, "%*s", TOA_STATS_COLUMN_WIDTH, "offline");
	seq_putc(seq, '\n');

	for (stat = 0; stat < TOA_STAT_COUNT; stat++) {
		u64 sum = 0;

		snprintf(label, sizeof(label), "%s:", toa_stat_names[stat]);
		seq_printf(seq, "%-*s", TOA_STATS_NAME_WIDTH, label);
		for_each_online_cpu(cpu)
			seq_printf(seq, "%*llu", TOA_STATS_COLUMN_WIDTH,
				   per_cpu_ptr(stats, cpu)->count[stat]);
		for_each_possible_cpu(cpu)
			if (!cpu_online(cpu))
				sum += per_cpu_ptr(stats, cpu)->count[stat];
		if (offline)
			seq_printf(seq, "%*llu", TOA_STATS_COLUMN_WIDTH, sum);
		seq_putc(seq, '\n');
	}
	cpus_read_unlock();
	return 0;
}

/*
 * A namespace (a container) starts even when its counters or its file cannot
 * be made: toa goes on counting for the host.
 */
static int __net_init toa_stats_net_init(struct net *net)
{
	struct toa_stats_net *tn = net_generic(net, toa_stats_net_id);

	if (!net_eq(net, &init_net)) {
		struct toa_stats __percpu *stats = alloc_percpu(struct toa_stats);

		if (!stats) {
			pr_warn("out of memory: this network namespace goes on without /proc/net/toa_stats\n");
			return 0;
		}
		tn->stats_mem = stats;
		/* Pairs with READ_ONCE() in toa_stat_inc(): zeroed, then seen. */
		smp_store_release(&tn->stats, stats);
	}
	tn->stats_file = proc_create_net_single("toa_stats", 0444,
						net->proc_net, toa_stats_show,
						NULL);
	if (!tn->stats_file)
		pr_warn("cannot create /proc/net/toa_stats (does another module have one?): this network namespace goes on without it\n");
	return 0;
}

/*
 * Only toa's own file: one made by another module is not toa's to remove.
 * Counting sites stop finding the counters here; the kernel waits for an RCU
 * grace period between pre_exit and exit.
 */
static void __net_exit toa_stats_net_pre_exit(struct net *net)
{
	struct toa_stats_net *tn = net_generic(net, toa_stats_net_id);

	proc_remove(tn->stats_file);
	WRITE_ONCE(tn->stats, NULL);
}

static void __net_exit toa_stats_net_exit(struct net *net)
{
	struct toa_stats_net *tn = net_generic(net, toa_stats_net_id);

	free_percpu(tn->stats_mem);
}

static struct pernet_operations toa_stats_net_ops = {
	.init = toa_stats_net_init,
	.pre_exit = toa_stats_net_pre_exit,
	.exit = toa_stats_net_exit,
	.id = &toa_stats_net_id,
	.size = sizeof(struct toa_stats_net),
};

int toa_stats_init(void)
{
	return register_pernet_subsys(&toa_stats_net_ops);
}

void toa_stats_uninit(void)
{
	unregister_pernet_subsys(&toa_stats_net_ops);
}
