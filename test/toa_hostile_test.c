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
	int listener, raw;
	int sport;
};

FIXTURE_SETUP(hostile)
{
	struct timeval tv = { 2, 0 };

	/* The client kernel must not reset the handshake it did not make. */
	ASSERT_EQ(0, run("ip netns exec " CLI_NS " nft -f - <<'EOF'\n"
			 "table ip toa_raw {\n chain out {\n"
			 "  type filter hook output priority 0;\n"
			 "  tcp flags & (rst | ack) == rst drop\n }\n}\nEOF"));
	self->listener = tcp_listen(AF_INET, SRV4, PORT, false);
	ASSERT_LE(0, self->listener);
	setsockopt(self->listener, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	self->raw = in_netns(CLI_NS, raw_socket_fn, NULL);
	ASSERT_LE(0, self->raw);
	self->sport = RAW_SPORT;
	ASSERT_EQ(0, run("mountpoint -q " TRACING " || mount -t tracefs nodev " TRACING
			 "; echo 1 > " TRACING "events/skb/kfree_skb/enable"));
	tcp_drop_reasons((char[256]){}, 256);
}

FIXTURE_TEARDOWN(hostile)
{
	close(self->raw);
	close(self->listener);
	run("ip netns exec " CLI_NS " nft delete table ip toa_raw");
	run("echo 0 > " TRACING "events/skb/kfree_skb/enable");
}

/*
 * One raw handshake, @what, with MSS and @syn on the SYN and @ack on the
 * ACK. Puts what getpeername() said in @peer as "ip port", after checking
 * the wire. Newer kernels (7.2) check the option list for authentication
 * options first and drop a segment whose list is malformed (drop reason
 * TCP_AUTH_HDR) before TCP or toa look at it: then @peer says so, where
 * @malformed_list allows it.
 */
static void handshake(struct __test_metadata *_metadata,
		      FIXTURE_DATA(hostile) *self, const char *what,
		      const uint8_t *syn, int synlen,
		      const uint8_t *ack, int acklen, bool malformed_list,
		      char *peer, size_t size)
{
	uint8_t synopts[40] = { 2, 4, 0x05, 0xb4 };	/* MSS 1460 */
	uint32_t isn = 1000000 + self->sport;
	struct capture cap;
	union addr a;
	socklen_t len = sizeof(a);
	char reason[256] = "";
	int64_t sseq;
	int server;

	memcpy(synopts + 4, syn, synlen);
	capture_start(&cap, PORT);
	raw_send(self->raw, self->sport, isn, 0, 0x02, synopts, 4 + synlen);
	sseq = raw_synack(self->raw, self->sport);
	ASSERT_LE(0, sseq) TH_LOG("%s: no SYN-ACK (drop reasons '%s')", what,
				  tcp_drop_reasons(reason, sizeof(reason)));
	raw_send(self->raw, self->sport, isn + 1, sseq + 1, 0x10, ack, acklen);
	server = accept(self->listener, &a.sa, &len);
	capture_end(&cap);

	/* The wire carried exactly the bytes under test. */
	ASSERT_EQ(0, memcmp(cap.syn_opts, synopts, 4 + synlen))
		TH_LOG("%s: SYN on the wire", what);
	ASSERT_EQ(0, memcmp(cap.ack_opts, ack, acklen))
		TH_LOG("%s: ACK on the wire", what);

	if (server < 0 &&
	    strstr(tcp_drop_reasons(reason, sizeof(reason)), "TCP_AUTH_HDR") &&
	    malformed_list) {
		snprintf(peer, size, "dropped by the kernel");
		TH_LOG("%s: %s (TCP_AUTH_HDR)", what, peer);
		raw_send(self->raw, self->sport++, isn + 1, sseq + 1, 0x14,
			 NULL, 0);
		return;
	}
	ASSERT_LE(0, server) TH_LOG("%s: accept: %m (drop reasons '%s')", what,
				    reason);

	len = sizeof(a);
	ASSERT_EQ(0, getpeername(server, &a.sa, &len));
	addr_str(&a, peer, size);
	close(server);	/* its reset to the raw client is dropped: fine */
	raw_send(self->raw, self->sport, isn + 1, sseq + 1, 0x14, NULL, 0);
	self->sport++;
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

static const char *no_toa(char *buf, size_t size, int sport)
{
	snprintf(buf, size, "%s %d", CLI4, sport);
	return buf;
}

/* Every length 0..40 of kinds 254 and 253 on the ACK: only 8 and 20. */
TEST_F_TIMEOUT(hostile, every_length, 300)
{
	for (int kind = 253; kind <= 254; kind++)
		for (int len = 0; len <= 40; len++) {
			uint8_t ack[40];
			char what[40], peer[80], want[80];
			int n = option(ack, kind, len);
			int sport = self->sport;

			snprintf(what, sizeof(what), "kind %d length %d",
				 kind, len);
			handshake(_metadata, self, what, NULL, 0, ack, n,
				  false, peer, sizeof(peer));
			if (len == 8)
				snprintf(want, sizeof(want), "192.0.2.7 4660");
			else if (len == 20)
				snprintf(want, sizeof(want), "2001:db8::7 4660");
			else
				no_toa(want, sizeof(want), sport);
			ASSERT_STREQ(want, peer) TH_LOG("%s", what);
		}
}

struct hostile_case {
	const char *name;
	uint8_t syn[36], ack[40];
	int synlen, acklen;
	const char *want;	/* NULL: the client's own address */
	bool malformed_list;	/* newer kernels drop such an ACK */
};

static const struct hostile_case cases[] = {
	{ "past the header end", .ack = { 254, 12, 0x12, 0x34, 192, 0, 2, 7 },
	  .acklen = 8, .malformed_list = true },
	{ "after End of Options", .ack = { 0, 254, 8, 0x12, 0x34, 192, 0, 2, 7 },
	  .acklen = 9 },
	{ "after a malformed option", .ack = { 30, 1, 254, 8, 0x12, 0x34, 192, 0,
					       2, 7 }, .acklen = 10,
	  .malformed_list = true },
	{ "after a NOP run", .ack = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
				      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
				      1, 1, 1, 254, 8, 0x12, 0x34, 192, 0, 2, 7 },
	  .acklen = 40, .want = "192.0.2.7 4660" },
	{ "duplicated: the first wins", .ack = { 254, 8, 0x12, 0x34, 192, 0, 2, 7,
						 254, 8, 0x56, 0x78, 192, 0, 2, 8 },
	  .acklen = 16, .want = "192.0.2.7 4660" },
	{ "unusable first, usable second",
	  .ack = { 254, 8, 0, 0, 192, 0, 2, 7, 254, 8, 0x56, 0x78, 192, 0, 2, 8 },
	  .acklen = 16, .want = "192.0.2.8 22136" },
	{ "port 0", .ack = { 254, 8, 0, 0, 192, 0, 2, 7 }, .acklen = 8 },
	{ "0.0.0.0", .ack = { 254, 8, 0x12, 0x34, 0, 0, 0, 0 }, .acklen = 8 },
	{ "255.255.255.255", .ack = { 254, 8, 0x12, 0x34, 255, 255, 255, 255 },
	  .acklen = 8 },
	{ "multicast 224.0.0.1", .ack = { 254, 8, 0x12, 0x34, 224, 0, 0, 1 },
	  .acklen = 8 },
	{ "::", .ack = { 254, 20, 0x12, 0x34 }, .acklen = 20 },
	{ "ff02::1", .ack = { 254, 20, 0x12, 0x34, 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0,
			      0, 0, 0, 0, 0, 1 }, .acklen = 20 },
	{ "kind 200 not asked for", .ack = { 200, 8, 0x12, 0x34, 192, 0, 2, 7 },
	  .acklen = 8 },
	{ "TOA on the SYN only", .syn = { 254, 8, 0x12, 0x34, 192, 0, 2, 7 },
	  .synlen = 8 },
	{ "malformed SYN, TOA on the ACK", .syn = { 254, 1, 1, 1 }, .synlen = 4,
	  .ack = { 254, 8, 0x12, 0x34, 192, 0, 2, 7 }, .acklen = 8,
	  .want = "192.0.2.7 4660" },
	{ "SYN and ACK disagree: the ACK counts",
	  .syn = { 254, 8, 0x12, 0x34, 192, 0, 2, 9 }, .synlen = 8,
	  .ack = { 254, 8, 0x12, 0x34, 192, 0, 2, 7 }, .acklen = 8,
	  .want = "192.0.2.7 4660" },
	{ "Fast Open magic on the ACK is TOA",
	  .ack = { 254, 8, 0xf9, 0x89, 192, 0, 2, 7 }, .acklen = 8,
	  .want = "192.0.2.7 63881" },
};

TEST_F_TIMEOUT(hostile, documented_outcomes, 120)
{
	long long before[TOA_STAT_COUNT], after[TOA_STAT_COUNT];

	ASSERT_EQ(0, stats_read(before));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hostile_case *c = &cases[i];
		char peer[80], want[80];
		int sport = self->sport;

		handshake(_metadata, self, c->name, c->syn, c->synlen, c->ack,
			  c->acklen, c->malformed_list, peer, sizeof(peer));
		if (!strcmp(peer, "dropped by the kernel"))
			continue;
		ASSERT_STREQ(c->want ?: no_toa(want, sizeof(want), sport), peer)
			TH_LOG("%s", c->name);
	}
	stats_after_close(after);
	ASSERT_EQ(after[TOA_STAT_IP6_ADDRESS_ALLOC], after[TOA_STAT_IP6_ADDRESS_FREE]);
}

TEST_HARNESS_MAIN
