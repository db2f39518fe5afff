// SPDX-License-Identifier: GPL-2.0
/*
 * Option areas no kernel would send, on the SYN, on the handshake ACK or on
 * both, from a handshake made over a raw socket: every length of the TOA
 * kinds, options past the header end or after End of Options, NOP runs,
 * duplicates, unusable addresses, a full 40-byte area. Each must give the
 * outcome README.md documents, and never more than that.
 */
#include "toa_wire.h"
#include "kselftest_harness.h"

#define PORT		7070
#define RAW_SPORT	40000
#define TRACING		"/sys/kernel/tracing/"

static const uint8_t toa4[] = { 0x12, 0x34, 192, 0, 2, 7 };
static const uint8_t toa6[] = { 0x12, 0x34, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				0, 0, 0, 0, 0, 0, 0, 7 };

static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* A TCP segment from the client's raw socket, options padded with NOPs. */
static void raw_send(int fd, int sport, uint32_t seq, uint32_t ack,
		     uint8_t flags, const uint8_t *opts, int optlen)
{
	uint8_t seg[60] = { 0 }, pseudo[12 + 60];
	int len = 20 + ((optlen + 3) & ~3);
	struct sockaddr_in dst = { .sin_family = AF_INET };
	uint16_t sum;

	seg[0] = sport >> 8;
	seg[1] = sport;
	seg[2] = PORT >> 8;
	seg[3] = PORT & 0xff;
	for (int i = 0; i < 4; i++) {
		seg[4 + i] = seq >> (24 - 8 * i);
		seg[8 + i] = ack >> (24 - 8 * i);
	}
	seg[12] = (len / 4) << 4;
	seg[13] = flags;
	seg[14] = 0xfa;			/* window 64000 */
	memcpy(seg + 20, opts, optlen);
	memset(seg + 20 + optlen, 1, len - 20 - optlen);

	inet_pton(AF_INET, CLI4, pseudo);
	inet_pton(AF_INET, SRV4, pseudo + 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = 0;
	pseudo[11] = len;
	memcpy(pseudo + 12, seg, len);
	sum = csum(pseudo, 12 + len, 0);
	seg[16] = sum >> 8;
	seg[17] = sum;

	inet_pton(AF_INET, SRV4, &dst.sin_addr);
	sendto(fd, seg, len, 0, (struct sockaddr *)&dst, sizeof(dst));
}

/* The server's SYN-ACK to @sport: its sequence number, or -1. */
static int64_t raw_synack(int fd, int sport)
{
	uint8_t pkt[1500];
	time_t end = time(NULL) + 3;

	while (time(NULL) < end) {
		ssize_t n = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT);
		uint8_t *th = pkt + (pkt[0] & 15) * 4;

		if (n <= 0) {
			usleep(1000);
			continue;
		}
		if ((th[0] << 8 | th[1]) == PORT &&
		    (th[2] << 8 | th[3]) == sport && (th[13] & 0x12) == 0x12)
			return (uint32_t)(th[4] << 24 | th[5] << 16 |
					  th[6] << 8 | th[7]);
	}
	return -1;
}

/*
 * Why TCP dropped segments since the last call, as the kfree_skb trace event
 * says ("TCP_AUTH_HDR ..."), leaving out NO_SOCKET: the client's kernel drops
 * the SYN-ACKs of handshakes it did not make.
 */
static const char *tcp_drop_reasons(char *buf, size_t size)
{
	char line[512];
	size_t used = 0;
	FILE *f = fopen(TRACING "trace", "r");

	buf[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char *r = strstr(line, "reason: ");

		if (!strstr(line, "location=tcp_") || !r)
			continue;
		r[8 + strcspn(r + 8, "\n")] = 0;
		if (strcmp(r + 8, "NO_SOCKET") && used < size)
			used += snprintf(buf + used, size - used, "%s%s",
					 used ? " " : "", r + 8);
	}
	if (f)
		fclose(f);
	f = fopen(TRACING "trace", "w");	/* empties it */
	if (f)
		fclose(f);
	return buf;
}

static int raw_socket_fn(void *arg)
{
	return socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
}

FIXTURE(hostile) {
	int listener, raw, server;
	struct capture cap;
	int sport;
};

/*
 * One variant per case, each its own TAP line: a case that fails hides no
 * other. @kind and @len: the ACK carries option() of that kind and length
 * (and the outcome follows from the length); otherwise @syn and @ack as
 * they are.
 */
FIXTURE_VARIANT(hostile) {
	int kind, len;
	uint8_t syn[36], ack[40];
	int synlen, acklen;
	const char *want;	/* NULL: the client's own address */
	bool malformed_list;	/* newer kernels drop such an ACK */
};

/* Every length 0..40 of kinds 254 and 253 on the ACK: only 8 and 20 are TOA. */
#define LENGTH(k, l) \
	FIXTURE_VARIANT_ADD(hostile, kind##k##_length##l) { .kind = k, .len = l }
#define LENGTHS10(k, tens) \
	LENGTH(k, tens##0); LENGTH(k, tens##1); LENGTH(k, tens##2); \
	LENGTH(k, tens##3); LENGTH(k, tens##4); LENGTH(k, tens##5); \
	LENGTH(k, tens##6); LENGTH(k, tens##7); LENGTH(k, tens##8); \
	LENGTH(k, tens##9)
#define LENGTHS(k) \
	LENGTHS10(k, ); LENGTHS10(k, 1); LENGTHS10(k, 2); LENGTHS10(k, 3); \
	LENGTH(k, 40)

LENGTHS(253);
LENGTHS(254);

FIXTURE_VARIANT_ADD(hostile, past_the_header_end) {
	.ack = { 254, 12, 0x12, 0x34, 192, 0, 2, 7 }, .acklen = 8,
	.malformed_list = true,
};

FIXTURE_VARIANT_ADD(hostile, after_end_of_options) {
	.ack = { 0, 254, 8, 0x12, 0x34, 192, 0, 2, 7 }, .acklen = 9,
};

FIXTURE_VARIANT_ADD(hostile, after_a_malformed_option) {
	.ack = { 30, 1, 254, 8, 0x12, 0x34, 192, 0, 2, 7 }, .acklen = 10,
	.malformed_list = true,
};

FIXTURE_VARIANT_ADD(hostile, after_a_nop_run) {
	.ack = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 254, 8, 0x12, 0x34, 192,
		 0, 2, 7 },
	.acklen = 40, .want = "192.0.2.7 4660",
};

FIXTURE_VARIANT_ADD(hostile, duplicated_the_first_wins) {
	.ack = { 254, 8, 0x12, 0x34, 192, 0, 2, 7,
		 254, 8, 0x56, 0x78, 192, 0, 2, 8 },
	.acklen = 16, .want = "192.0.2.7 4660",
};

FIXTURE_VARIANT_ADD(hostile, unusable_first_usable_second) {
	.ack = { 254, 8, 0, 0, 192, 0, 2, 7, 254, 8, 0x56, 0x78, 192, 0, 2, 8 },
	.acklen = 16, .want = "192.0.2.8 22136",
};

FIXTURE_VARIANT_ADD(hostile, port_0) {
	.ack = { 254, 8, 0, 0, 192, 0, 2, 7 }, .acklen = 8,
};

FIXTURE_VARIANT_ADD(hostile, unspecified_0_0_0_0) {
	.ack = { 254, 8, 0x12, 0x34, 0, 0, 0, 0 }, .acklen = 8,
};

FIXTURE_VARIANT_ADD(hostile, broadcast_255_255_255_255) {
	.ack = { 254, 8, 0x12, 0x34, 255, 255, 255, 255 }, .acklen = 8,
};

FIXTURE_VARIANT_ADD(hostile, multicast_224_0_0_1) {
	.ack = { 254, 8, 0x12, 0x34, 224, 0, 0, 1 }, .acklen = 8,
};

FIXTURE_VARIANT_ADD(hostile, unspecified_v6) {
	.ack = { 254, 20, 0x12, 0x34 }, .acklen = 20,
};

FIXTURE_VARIANT_ADD(hostile, multicast_ff02__1) {
	.ack = { 254, 20, 0x12, 0x34, 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		 0, 0, 1 },
	.acklen = 20,
};

FIXTURE_VARIANT_ADD(hostile, kind_200_not_asked_for) {
	.ack = { 200, 8, 0x12, 0x34, 192, 0, 2, 7 }, .acklen = 8,
};

FIXTURE_VARIANT_ADD(hostile, toa_on_the_syn_only) {
	.syn = { 254, 8, 0x12, 0x34, 192, 0, 2, 7 }, .synlen = 8,
};

FIXTURE_VARIANT_ADD(hostile, malformed_syn_toa_on_the_ack) {
	.syn = { 254, 1, 1, 1 }, .synlen = 4,
	.ack = { 254, 8, 0x12, 0x34, 192, 0, 2, 7 }, .acklen = 8,
	.want = "192.0.2.7 4660",
};

FIXTURE_VARIANT_ADD(hostile, syn_and_ack_disagree_the_ack_counts) {
	.syn = { 254, 8, 0x12, 0x34, 192, 0, 2, 9 }, .synlen = 8,
	.ack = { 254, 8, 0x12, 0x34, 192, 0, 2, 7 }, .acklen = 8,
	.want = "192.0.2.7 4660",
};

FIXTURE_VARIANT_ADD(hostile, fast_open_magic_on_the_ack_is_toa) {
	.ack = { 254, 8, 0xf9, 0x89, 192, 0, 2, 7 }, .acklen = 8,
	.want = "192.0.2.7 63881",
};

/*
 * Once for all the cases, in the harness's process before it forks them:
 * the client kernel must not reset the handshakes it did not make, and TCP's
 * drops are traced. Both switch static keys (kernel text patched), which
 * under multi-threaded TCG can hang a guest, and a case would spend most of
 * its time starting these commands.
 */
static int once_status = -1;

static void __attribute__((constructor)) once_before_the_cases(void)
{
	once_status = run("ip netns exec " CLI_NS " nft -f - <<'EOF'\n"
			  "table ip toa_raw {\n chain out {\n"
			  "  type filter hook output priority 0;\n"
			  "  tcp flags & (rst | ack) == rst drop\n }\n}\nEOF");
	if (!once_status)
		once_status = run("mountpoint -q " TRACING " || mount -t tracefs nodev "
				  TRACING "; echo 1 > " TRACING "events/skb/kfree_skb/enable");
}

static void __attribute__((destructor)) once_after_the_cases(void)
{
	run("ip netns exec " CLI_NS " nft delete table ip toa_raw");
	run("echo 0 > " TRACING "events/skb/kfree_skb/enable");
}

FIXTURE_SETUP(hostile)
{
	struct timeval tv = { 2, 0 };

	self->listener = self->raw = self->server = self->cap.fd = -1;
	ASSERT_EQ(0, once_status) TH_LOG("the nft table or the kfree_skb tracepoint");
	self->listener = tcp_listen(AF_INET, SRV4, PORT, false);
	ASSERT_LE(0, self->listener);
	setsockopt(self->listener, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	self->raw = in_netns(CLI_NS, raw_socket_fn, NULL);
	ASSERT_LE(0, self->raw);
	/*
	 * Each variant runs in a process of its own: its pid keeps its
	 * handshake's four-tuple apart from the variants before it.
	 */
	self->sport = RAW_SPORT + getpid() % 20000;
	tcp_drop_reasons((char[256]){}, 256);	/* forgets earlier cases' drops */
}

FIXTURE_TEARDOWN(hostile)
{
	if (self->server >= 0)
		close(self->server);
	if (self->cap.fd >= 0)
		close(self->cap.fd);
	close(self->raw);
	close(self->listener);
}

/*
 * One raw handshake with MSS and @syn on the SYN and @ack on the ACK. Puts
 * what getpeername() said in @peer as "ip port", after checking the wire.
 * Newer kernels (7.2) check the option list for authentication options
 * first and drop a segment whose list is malformed (drop reason
 * TCP_AUTH_HDR) before TCP or toa look at it: then @peer says so, where
 * @malformed_list allows it.
 */
static void handshake(struct __test_metadata *_metadata,
		      FIXTURE_DATA(hostile) *self,
		      const uint8_t *syn, int synlen,
		      const uint8_t *ack, int acklen, bool malformed_list,
		      char *peer, size_t size)
{
	uint8_t synopts[40] = { 2, 4, 0x05, 0xb4 };	/* MSS 1460 */
	uint32_t isn = 1000000 + self->sport;
	union addr a;
	socklen_t len = sizeof(a);
	char reason[256] = "";
	int64_t sseq;

	memcpy(synopts + 4, syn, synlen);
	capture_start(&self->cap, PORT);
	raw_send(self->raw, self->sport, isn, 0, 0x02, synopts, 4 + synlen);
	sseq = raw_synack(self->raw, self->sport);
	ASSERT_LE(0, sseq) TH_LOG("no SYN-ACK (drop reasons '%s')",
				  tcp_drop_reasons(reason, sizeof(reason)));
	raw_send(self->raw, self->sport, isn + 1, sseq + 1, 0x10, ack, acklen);
	self->server = accept(self->listener, &a.sa, &len);
	capture_end(&self->cap);

	/* The wire carried exactly the bytes under test. */
	EXPECT_EQ(0, memcmp(self->cap.syn_opts, synopts, 4 + synlen))
		TH_LOG("SYN on the wire");
	EXPECT_EQ(0, memcmp(self->cap.ack_opts, ack, acklen))
		TH_LOG("ACK on the wire");

	if (self->server < 0 &&
	    strstr(tcp_drop_reasons(reason, sizeof(reason)), "TCP_AUTH_HDR") &&
	    malformed_list) {
		snprintf(peer, size, "dropped by the kernel");
		TH_LOG("%s (TCP_AUTH_HDR)", peer);
		raw_send(self->raw, self->sport, isn + 1, sseq + 1, 0x14,
			 NULL, 0);
		return;
	}
	ASSERT_LE(0, self->server) TH_LOG("accept: %m (drop reasons '%s')",
					  reason);

	len = sizeof(a);
	ASSERT_EQ(0, getpeername(self->server, &a.sa, &len));
	addr_str(&a, peer, size);
	close(self->server);	/* its reset to the raw client is dropped: fine */
	self->server = -1;
	raw_send(self->raw, self->sport, isn + 1, sseq + 1, 0x14, NULL, 0);
}

static int option(uint8_t *buf, int kind, int len)
{
	uint8_t payload[38];

	memset(payload, 0, sizeof(payload));
	memcpy(payload, len == 8 ? toa4 : toa6, len == 8 ? 6 : 18);
	buf[0] = kind;
	buf[1] = len;
	if (len > 2)
		memcpy(buf + 2, payload, len - 2);
	return len < 2 ? 2 : len;
}

TEST_F_TIMEOUT(hostile, outcome, 60)
{
	long long stats[TOA_STAT_COUNT];
	const char *want = variant->want;
	uint8_t ack[40];
	int acklen = variant->acklen;
	char peer[80], own[80];

	memcpy(ack, variant->ack, sizeof(ack));
	if (variant->kind) {
		acklen = option(ack, variant->kind, variant->len);
		if (variant->len == 8)
			want = "192.0.2.7 4660";
		else if (variant->len == 20)
			want = "2001:db8::7 4660";
	}
	snprintf(own, sizeof(own), "%s %d", CLI4, self->sport);

	handshake(_metadata, self, variant->syn, variant->synlen, ack, acklen,
		  variant->malformed_list, peer, sizeof(peer));
	if (strcmp(peer, "dropped by the kernel"))
		EXPECT_STREQ(want ?: own, peer);
	stats_after_close(stats);
	EXPECT_EQ(stats[TOA_STAT_IP6_ADDRESS_ALLOC],
		  stats[TOA_STAT_IP6_ADDRESS_FREE]);
}

TOA_HARNESS_MAIN
