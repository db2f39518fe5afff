/* SPDX-License-Identifier: GPL-2.0 */
/* The map value shared by toa_client.bpf.c and the tests. */
#ifndef TOA_CLIENT_H
#define TOA_CLIENT_H

#include <linux/types.h>

#define TOA_CLIENT_MAP	"/sys/fs/bpf/toa_client_opt"

struct toa_client_opt {
	__u8 len;		/* 0: leave segments alone */
	__u8 on_syn;
	__u8 on_ack;
	__u8 pad;
	__u8 bytes[40];		/* whole options: kind, length, data */
};

#endif /* TOA_CLIENT_H */
