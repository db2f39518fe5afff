// SPDX-License-Identifier: GPL-2.0
/*
 * The test proxy: a real kernel TCP client whose SYN and/or handshake ACK
 * carry the option bytes the test put in the toa_client_opt map. Attached
 * to the cgroup the tests run in; only active opens are touched.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "toa_client.h"

#define TCPHDR_SYN 0x02

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct toa_client_opt);
} toa_client_opt SEC(".maps");

static int wanted(const struct toa_client_opt *opt, __u32 tcp_flags)
{
	return (tcp_flags & TCPHDR_SYN) ? opt->on_syn : opt->on_ack;
}

SEC("sockops")
int toa_client(struct bpf_sock_ops *skops)
{
	struct toa_client_opt *opt;
	__u32 key = 0, len;

	opt = bpf_map_lookup_elem(&toa_client_opt, &key);
	if (!opt || !opt->len)
		return 1;

	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
					  BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		if (wanted(opt, skops->skb_tcp_flags))
			bpf_reserve_hdr_opt(skops, opt->len, 0);
		break;
	case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
		len = opt->len;
		if (wanted(opt, skops->skb_tcp_flags) && len >= 2 &&
		    len <= sizeof(opt->bytes))
			bpf_store_hdr_opt(skops, opt->bytes, len, 0);
		/* The handshake ACK is the last segment to carry it. */
		if (!(skops->skb_tcp_flags & TCPHDR_SYN))
			bpf_sock_ops_cb_flags_set(skops,
						  skops->bpf_sock_ops_cb_flags &
						  ~BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		break;
	}
	return 1;
}

char _license[] SEC("license") = "GPL";
