// SPDX-License-Identifier: GPL-2.0
/*
 * toa over real connections: a kernel TCP client in one namespace puts the
 * option on the wire (checked in a capture), a server in another accepts,
 * and what accept(), getpeername() and /proc/net/toa_stats say is compared
 * with what the module promises. Runs in the guest, see test/guest.sh.
 */
#include "toa_wire.h"
#include <sys/stat.h>
#include "kselftest_harness.h"

#define PORT		8080

/* One connection, seen from both ends and from the wire. */
struct conn {
	int listener, client, server;
	union addr accepted, peer, local, client_local;
	socklen_t accepted_len, peer_len;
	struct capture cap;
};

/* Nothing open yet: what conn_close() finds closed. */
static void conn_none(struct conn *c)
{
	c->listener = c->client = c->server = c->cap.fd = -1;
}

static void conn_open(struct __test_metadata *_metadata, struct conn *c,
		      int family, const char *listen_ip, bool v6only,
		      const char *connect_ip)
{
	socklen_t len;

	memset(c, 0, sizeof(*c));
	conn_none(c);
	c->listener = tcp_listen(family, listen_ip, PORT, v6only);
	ASSERT_LE(0, c->listener) TH_LOG("listen on %s: %m", listen_ip);
	capture_start(&c->cap, PORT);
	c->client = tcp_connect(connect_ip, PORT);
	ASSERT_LE(0, c->client) TH_LOG("connect to %s: %m", connect_ip);

	c->accepted_len = sizeof(c->accepted);
	c->server = accept(c->listener, &c->accepted.sa, &c->accepted_len);
	ASSERT_LE(0, c->server) TH_LOG("accept: %m");
	capture_end(&c->cap);

	c->peer_len = sizeof(c->peer);
	ASSERT_EQ(0, getpeername(c->server, &c->peer.sa, &c->peer_len));
	len = sizeof(c->local);
	ASSERT_EQ(0, getsockname(c->server, &c->local.sa, &len));
	len = sizeof(c->client_local);
	ASSERT_EQ(0, getsockname(c->client, &c->client_local.sa, &len));
}

/* Closes what is open of @c; again, closes nothing. */
static void conn_close(struct conn *c)
{
	int fds[] = { c->client, c->server, c->listener, c->cap.fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	conn_none(c);
}

/* ASSERTs that @a is "@ip @port", printed as addr_str() prints it. */
#define ASSERT_ADDR(want, a) do {					\
	char _buf[80];							\
	ASSERT_STREQ(want, addr_str(a, _buf, sizeof(_buf)));		\
} while (0)

static void stats_delta(const long long *before, const long long *after,
			long long *delta)
{
	for (int i = 0; i < TOA_STAT_COUNT; i++)
		delta[i] = after[i] - before[i];
}

static void set_toa(int kind, const char *ip, int port, bool on_syn,
		    bool on_ack)
{
	uint8_t opt[40];

	client_opt(opt, toa_opt(opt, kind, ip, port), on_syn, on_ack);
}

/* Every row of the substitution table, over accept() and getpeername(). */
FIXTURE(table) {
	struct conn c;
};

FIXTURE_VARIANT(table) {
	int listen_family;
	const char *listen_ip;
	bool v6only;
	const char *connect_ip;
	int kind;
	const char *toa_ip;	/* NULL: the client sends no TOA */
	int want_family;
	const char *want;	/* NULL: the client's own address */
	int want_stat;		/* counter each getname moves */
	const char *ipv6_on_ipv4;	/* the parameter; NULL: the default */
};

FIXTURE_VARIANT_ADD(table, v4_listener_v4_toa) {
	.listen_family = AF_INET, .listen_ip = SRV4, .connect_ip = SRV4,
	.kind = 254, .toa_ip = TOA_IP4,
	.want_family = AF_INET, .want = "192.0.2.7 4660",
	.want_stat = TOA_STAT_GETNAME_TOA_OK,
};

FIXTURE_VARIANT_ADD(table, dual_stack_listener_v4_toa) {
	.listen_family = AF_INET6, .listen_ip = "::", .connect_ip = SRV4,
	.kind = 254, .toa_ip = TOA_IP4,
	.want_family = AF_INET6, .want = "::ffff:192.0.2.7 4660",
	.want_stat = TOA_STAT_GETNAME_TOA_OK,
};

FIXTURE_VARIANT_ADD(table, v6_listener_v6_toa) {
	.listen_family = AF_INET6, .listen_ip = SRV6, .v6only = true,
	.connect_ip = SRV6, .kind = 254, .toa_ip = TOA_IP6,
	.want_family = AF_INET6, .want = "2001:db8::7 4660",
	.want_stat = TOA_STAT_GETNAME_TOA_OK,
};

FIXTURE_VARIANT_ADD(table, v6_listener_v6_toa_kind253) {
	.listen_family = AF_INET6, .listen_ip = SRV6, .v6only = true,
	.connect_ip = SRV6, .kind = 253, .toa_ip = TOA_IP6,
	.want_family = AF_INET6, .want = "2001:db8::7 4660",
	.want_stat = TOA_STAT_GETNAME_TOA_OK,
};

FIXTURE_VARIANT_ADD(table, v6_listener_v4_toa) {
	.listen_family = AF_INET6, .listen_ip = SRV6, .v6only = true,
	.connect_ip = SRV6, .kind = 254, .toa_ip = TOA_IP4,
	.want_family = AF_INET6, .want = "::ffff:192.0.2.7 4660",
	.want_stat = TOA_STAT_GETNAME_TOA_OK,
};

FIXTURE_VARIANT_ADD(table, v4_listener_v6_toa) {
	.listen_family = AF_INET, .listen_ip = SRV4, .connect_ip = SRV4,
	.kind = 254, .toa_ip = TOA_IP6,
	.want_family = AF_INET6, .want = "2001:db8::7 4660",
	.want_stat = TOA_STAT_GETNAME_TOA_MISMATCH,
};

/* The kernel's own answer: the proxy's address, as a sockaddr_in. */
FIXTURE_VARIANT_ADD(table, v4_listener_v6_toa_proxy) {
	.listen_family = AF_INET, .listen_ip = SRV4, .connect_ip = SRV4,
	.kind = 254, .toa_ip = TOA_IP6, .ipv6_on_ipv4 = "proxy",
	.want_family = AF_INET, .want_stat = TOA_STAT_GETNAME_TOA_MISMATCH,
};

FIXTURE_VARIANT_ADD(table, v4_listener_no_toa) {
	.listen_family = AF_INET, .listen_ip = SRV4, .connect_ip = SRV4,
	.want_family = AF_INET, .want_stat = TOA_STAT_GETNAME_TOA_EMPTY,
};

FIXTURE_VARIANT_ADD(table, dual_stack_listener_no_toa) {
	.listen_family = AF_INET6, .listen_ip = "::", .connect_ip = SRV4,
	.want_family = AF_INET6, .want_stat = TOA_STAT_GETNAME_TOA_EMPTY,
};

FIXTURE_VARIANT_ADD(table, v6_listener_no_toa) {
	.listen_family = AF_INET6, .listen_ip = SRV6, .v6only = true,
	.connect_ip = SRV6, .want_family = AF_INET6, .want_stat = TOA_STAT_GETNAME_TOA_EMPTY,
};

FIXTURE_SETUP(table)
{
	conn_none(&self->c);
	ASSERT_EQ(0, toa_param_set("ipv6_on_ipv4",
				   variant->ipv6_on_ipv4 ?: "sockaddr_in6"));
	if (variant->toa_ip)
		set_toa(variant->kind, variant->toa_ip, TOA_PORT, true, true);
	else
		client_opt(NULL, 0, false, false);
}

/* The test closes the connection itself, to count the record freed. */
FIXTURE_TEARDOWN(table)
{
	conn_close(&self->c);
	toa_param_set("ipv6_on_ipv4", "sockaddr_in6");
}

TEST_F(table, accept_and_getpeername)
{
	long long before[TOA_STAT_COUNT], during[TOA_STAT_COUNT], after[TOA_STAT_COUNT];
	long long delta[TOA_STAT_COUNT];
	char want[96], buf[80];
	uint8_t opt[40];
	bool toa = variant->toa_ip;

	ASSERT_EQ(0, stats_read(before));
	conn_open(_metadata, &self->c, variant->listen_family,
		  variant->listen_ip, variant->v6only, variant->connect_ip);
	ASSERT_EQ(0, stats_read(during));

	/* What the proxy sent is what the wire carried. */
	ASSERT_LE(0, self->c.cap.ack_len) TH_LOG("no handshake ACK captured");
	if (toa) {
		toa_opt(opt, variant->kind, variant->toa_ip, TOA_PORT);
		ASSERT_TRUE(opts_have(self->c.cap.ack_opts, self->c.cap.ack_len,
				      opt)) TH_LOG("TOA missing on the wire");
	}

	if (variant->want) {
		snprintf(want, sizeof(want), "%s", variant->want);
	} else {
		/* Without TOA the kernel's own answer: the client itself. */
		addr_str(&self->c.client_local, want, sizeof(want));
		if (variant->want_family == AF_INET6 &&
		    self->c.client_local.sa.sa_family == AF_INET)
			snprintf(want, sizeof(want), "::ffff:%s",
				 addr_str(&self->c.client_local, buf,
					  sizeof(buf)));
	}
	ASSERT_EQ(variant->want_family, self->c.accepted.sa.sa_family);
	ASSERT_EQ(variant->want_family == AF_INET ?
		  sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6),
		  self->c.accepted_len);
	ASSERT_ADDR(want, &self->c.accepted);
	ASSERT_EQ(self->c.accepted_len, self->c.peer_len);
	ASSERT_ADDR(want, &self->c.peer);

	/* getsockname() is the server's own address, never TOA's. */
	ASSERT_EQ(PORT, ntohs(self->c.local.sin.sin_port));
	ASSERT_EQ(variant->listen_family, self->c.local.sa.sa_family);

	stats_delta(before, during, delta);
	ASSERT_EQ(toa, delta[TOA_STAT_SYN_RECV_SOCK_TOA]);
	ASSERT_EQ(!toa, delta[TOA_STAT_SYN_RECV_SOCK_NO_TOA]);
	ASSERT_EQ(toa, delta[TOA_STAT_IP6_ADDRESS_ALLOC]);
	/* accept() and getpeername(); getsockname() is not counted. */
	ASSERT_EQ(2, delta[variant->want_stat]);
	ASSERT_EQ(2, delta[TOA_STAT_GETNAME_TOA_OK] +
		     delta[TOA_STAT_GETNAME_TOA_MISMATCH] +
		     delta[TOA_STAT_GETNAME_TOA_EMPTY]);

	conn_close(&self->c);
	stats_after_close(after);
	stats_delta(before, after, delta);
	ASSERT_EQ(toa, delta[TOA_STAT_IP6_ADDRESS_FREE]) TH_LOG("TOA record not freed");
	ASSERT_EQ(after[TOA_STAT_IP6_ADDRESS_ALLOC], after[TOA_STAT_IP6_ADDRESS_FREE]);
}

/* The DPVS interface: getsockopt(IPPROTO_IP, 4096) on an IPv4 socket. */
FIXTURE(sockopt) {
	struct conn c;
};

FIXTURE_VARIANT(sockopt) {
	const char *toa_ip;
	const char *want;	/* NULL: ENOENT */
	const char *ipv6_on_ipv4;	/* the parameter; NULL: the default */
};

FIXTURE_VARIANT_ADD(sockopt, v6_toa) {
	.toa_ip = TOA_IP6, .want = "2001:db8::7 4660",
};

/* ipv6_on_ipv4=proxy: getpeername() gives the proxy, this the client. */
FIXTURE_VARIANT_ADD(sockopt, v6_toa_proxy) {
	.toa_ip = TOA_IP6, .want = "2001:db8::7 4660", .ipv6_on_ipv4 = "proxy",
};

FIXTURE_VARIANT_ADD(sockopt, v4_toa) {
	.toa_ip = TOA_IP4, .want = "::ffff:192.0.2.7 4660",
};

FIXTURE_VARIANT_ADD(sockopt, no_toa) {
};

FIXTURE_SETUP(sockopt)
{
	ASSERT_EQ(0, toa_param_set("ipv6_on_ipv4",
				   variant->ipv6_on_ipv4 ?: "sockaddr_in6"));
	if (variant->toa_ip)
		set_toa(254, variant->toa_ip, TOA_PORT, true, true);
	else
		client_opt(NULL, 0, false, false);
	conn_open(_metadata, &self->c, AF_INET, SRV4, false, SRV4);
}

FIXTURE_TEARDOWN(sockopt)
{
	conn_close(&self->c);
	toa_param_set("ipv6_on_ipv4", "sockaddr_in6");
}

TEST_F(sockopt, toa_so_get_lookup)
{
	struct toa_peer6 peer;
	socklen_t len = sizeof(peer);
	union addr a = { .sin6.sin6_family = AF_INET6 };
	int ret;

	ret = getsockopt(self->c.server, IPPROTO_IP, TOA_SO_GET_LOOKUP, &peer,
			 &len);
	if (!variant->want) {
		ASSERT_EQ(-1, ret);
		ASSERT_EQ(ENOENT, errno);
		return;
	}
	ASSERT_EQ(0, ret) TH_LOG("getsockopt: %m");
	ASSERT_EQ(sizeof(peer), len);
	a.sin6.sin6_addr = peer.saddr;
	a.sin6.sin6_port = peer.sport;
	ASSERT_ADDR(variant->want, &a);

	len = sizeof(peer) - 1;
	ASSERT_EQ(-1, getsockopt(self->c.server, IPPROTO_IP, TOA_SO_GET_LOOKUP,
				 &peer, &len));
	ASSERT_EQ(EINVAL, errno);
}

/* Which segment carries TOA: only the one that makes the socket counts. */
FIXTURE(segment) {
	struct conn c;
};

FIXTURE_VARIANT(segment) {
	bool on_syn, on_ack;
	bool used;
};

FIXTURE_VARIANT_ADD(segment, syn_and_ack) {
	.on_syn = true, .on_ack = true, .used = true,
};

FIXTURE_VARIANT_ADD(segment, ack_only) {
	.on_ack = true, .used = true,
};

/* The socket is made at the ACK: a SYN-only TOA is not seen. */
FIXTURE_VARIANT_ADD(segment, syn_only) {
	.on_syn = true, .used = false,
};

FIXTURE_SETUP(segment)
{
	set_toa(254, TOA_IP4, TOA_PORT, variant->on_syn, variant->on_ack);
	conn_open(_metadata, &self->c, AF_INET, SRV4, false, SRV4);
}

FIXTURE_TEARDOWN(segment)
{
	conn_close(&self->c);
}

TEST_F(segment, which_segment_counts)
{
	uint8_t opt[40];

	toa_opt(opt, 254, TOA_IP4, TOA_PORT);
	ASSERT_EQ(variant->on_syn, opts_have(self->c.cap.syn_opts,
					     self->c.cap.syn_len, opt));
	ASSERT_EQ(variant->on_ack, opts_have(self->c.cap.ack_opts,
					     self->c.cap.ack_len, opt));
	if (variant->used)
		ASSERT_ADDR("192.0.2.7 4660", &self->c.peer);
	else
		ASSERT_STREQ(CLI4, inet_ntoa(self->c.peer.sin.sin_addr));
}

static void sysctl_in(const char *ns, const char *key, const char *value)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ip netns exec %s sysctl -qw %s=%s", ns,
		 key, value);
	if (run(cmd))
		abort();
}

/* With SYN cookies the socket is made from the cookie-carrying ACK. */
TEST(syn_cookies)
{
	struct conn c;

	sysctl_in(SRV_NS, "net.ipv4.tcp_syncookies", "2");
	set_toa(254, TOA_IP4, TOA_PORT, false, true);
	conn_open(_metadata, &c, AF_INET, SRV4, false, SRV4);
	sysctl_in(SRV_NS, "net.ipv4.tcp_syncookies", "1");
	ASSERT_ADDR("192.0.2.7 4660", &c.peer);
	conn_close(&c);
}

/* Fast Open makes the socket from the SYN, which then carries TOA. */
FIXTURE(fastopen) {
	int listener, client, server;
	struct capture cap;
	union addr peer;
};

FIXTURE_VARIANT(fastopen) {
	int port;		/* 63881 is 0xF989, Fast Open's magic */
	const char *want;	/* NULL: not TOA */
};

FIXTURE_VARIANT_ADD(fastopen, toa_on_syn) {
	.port = TOA_PORT, .want = "192.0.2.7 4660",
};

FIXTURE_VARIANT_ADD(fastopen, tfo_magic_is_not_toa) {
	.port = 0xF989,
};

FIXTURE_SETUP(fastopen)
{
	int qlen = 16;
	union addr a;
	socklen_t len = addr_make(&a, SRV4, PORT);
	char buf[8];

	/* Server and client without cookies (0x200, 0x4), both enabled. */
	sysctl_in(SRV_NS, "net.ipv4.tcp_fastopen", "0x207");
	sysctl_in(CLI_NS, "net.ipv4.tcp_fastopen", "0x207");
	set_toa(254, TOA_IP4, variant->port, true, false);

	self->listener = tcp_listen(AF_INET, SRV4, PORT, false);
	ASSERT_LE(0, self->listener);
	ASSERT_EQ(0, setsockopt(self->listener, IPPROTO_TCP, TCP_FASTOPEN,
				&qlen, sizeof(qlen)));
	capture_start(&self->cap, PORT);
	self->client = socket_in(CLI_NS, AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(4, sendto(self->client, "tfo!", 4, MSG_FASTOPEN, &a.sa, len))
		TH_LOG("sendto(MSG_FASTOPEN): %m");
	self->server = accept(self->listener, NULL, NULL);
	ASSERT_LE(0, self->server);
	ASSERT_EQ(4, recv(self->server, buf, sizeof(buf), 0));
	capture_end(&self->cap);
	len = sizeof(self->peer);
	ASSERT_EQ(0, getpeername(self->server, &self->peer.sa, &len));
}

FIXTURE_TEARDOWN(fastopen)
{
	close(self->client);
	close(self->server);
	close(self->listener);
	sysctl_in(SRV_NS, "net.ipv4.tcp_fastopen", "1");
	sysctl_in(CLI_NS, "net.ipv4.tcp_fastopen", "1");
}

TEST_F(fastopen, syn_with_data)
{
	uint8_t opt[40];

	toa_opt(opt, 254, TOA_IP4, variant->port);
	ASSERT_TRUE(opts_have(self->cap.syn_opts, self->cap.syn_len, opt))
		TH_LOG("TOA missing on the Fast Open SYN");
	if (variant->want)
		ASSERT_ADDR(variant->want, &self->peer);
	else
		ASSERT_STREQ(CLI4, inet_ntoa(self->peer.sin.sin_addr));
}

/* The same bytes on an ACK are TOA, port 63881. */
TEST(tfo_magic_on_ack_is_toa)
{
	struct conn c;

	set_toa(254, TOA_IP4, 0xF989, false, true);
	conn_open(_metadata, &c, AF_INET, SRV4, false, SRV4);
	ASSERT_ADDR("192.0.2.7 63881", &c.peer);
	conn_close(&c);
}

/* Hooks cannot be switched off under toa: its observers would miss ends. */
TEST(ftrace_stays_on)
{
	long long before[TOA_STAT_COUNT], after[TOA_STAT_COUNT];
	struct conn c;
	int refused;

	refused = run("sysctl -qw kernel.ftrace_enabled=0 2>/dev/null");
	run("sysctl -qw kernel.ftrace_enabled=1");
	ASSERT_NE(0, refused) TH_LOG("kernel.ftrace_enabled=0 accepted under toa");

	ASSERT_EQ(0, stats_read(before));
	set_toa(254, TOA_IP4, TOA_PORT, true, true);
	conn_open(_metadata, &c, AF_INET, SRV4, false, SRV4);
	ASSERT_ADDR("192.0.2.7 4660", &c.peer);
	conn_close(&c);
	stats_after_close(after);
	ASSERT_EQ(1, after[TOA_STAT_IP6_ADDRESS_FREE] - before[TOA_STAT_IP6_ADDRESS_FREE]);
}

/*
 * connect(AF_UNSPEC) disconnects an accepted socket, which may then connect
 * elsewhere: from then on it has no client behind a proxy.
 */
TEST(disconnect_and_reuse)
{
	long long before[TOA_STAT_COUNT], after[TOA_STAT_COUNT];
	union addr a, unspec = { .sa.sa_family = AF_UNSPEC };
	int other, server2;
	struct conn c;
	socklen_t len;
	char buf[80];

	ASSERT_EQ(0, stats_read(before));
	set_toa(254, TOA_IP4, TOA_PORT, true, true);
	conn_open(_metadata, &c, AF_INET, SRV4, false, SRV4);
	ASSERT_ADDR("192.0.2.7 4660", &c.peer);
	client_opt(NULL, 0, false, false);

	ASSERT_EQ(0, connect(c.server, &unspec.sa, sizeof(unspec.sa)));
	len = sizeof(a.sin);
	ASSERT_EQ(-1, getsockopt(c.server, SOL_SOCKET, SO_PEERNAME, &a, &len))
		TH_LOG("SO_PEERNAME answered %s after disconnect",
		       addr_str(&a, buf, sizeof(buf)));
	ASSERT_EQ(ENOTCONN, errno);
	len = sizeof(a);
	ASSERT_EQ(-1, getpeername(c.server, &a.sa, &len));
	ASSERT_EQ(ENOTCONN, errno);
	ASSERT_EQ(0, stats_read(after));
	ASSERT_EQ(1, after[TOA_STAT_IP6_ADDRESS_FREE] - before[TOA_STAT_IP6_ADDRESS_FREE])
		TH_LOG("the record outlived the disconnect");

	other = tcp_listen(AF_INET, SRV4, PORT + 1, false);
	ASSERT_LE(0, other);
	len = addr_make(&a, SRV4, PORT + 1);
	ASSERT_EQ(0, connect(c.server, &a.sa, len)) TH_LOG("reconnect: %m");
	server2 = accept(other, NULL, NULL);
	ASSERT_LE(0, server2);
	ASSERT_STREQ(SRV4 " 8081", peer_str(c.server, buf, sizeof(buf)));
	close(server2);
	close(other);
	conn_close(&c);
}

/* getname_toa_empty counts accepted connections, not client sockets. */
TEST(client_socket_not_counted)
{
	long long before[TOA_STAT_COUNT], after[TOA_STAT_COUNT];
	struct conn c;
	char buf[80];

	client_opt(NULL, 0, false, false);
	conn_open(_metadata, &c, AF_INET, SRV4, false, SRV4);
	ASSERT_EQ(0, stats_read(before));
	ASSERT_STREQ(SRV4 " 8080", peer_str(c.client, buf, sizeof(buf)));
	ASSERT_EQ(0, stats_read(after));
	ASSERT_EQ(0, after[TOA_STAT_GETNAME_TOA_EMPTY] - before[TOA_STAT_GETNAME_TOA_EMPTY]);
	ASSERT_EQ(0, strncmp(CLI4 " ", peer_str(c.server, buf, sizeof(buf)),
			     strlen(CLI4) + 1));
	ASSERT_EQ(0, stats_read(after));
	ASSERT_EQ(1, after[TOA_STAT_GETNAME_TOA_EMPTY] - before[TOA_STAT_GETNAME_TOA_EMPTY]);
	conn_close(&c);
}

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

/* A plain TCP connection into an MPTCP listener is accepted as TCP. */
TEST(mptcp_listener)
{
	int listener, client, server, one = 1;
	union addr a, peer;
	socklen_t len;
	char buf[80];

	listener = socket_in(SRV_NS, AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	if (listener < 0)
		SKIP(return, "no MPTCP in this kernel: %m");
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	len = addr_make(&a, SRV4, PORT + 2);
	ASSERT_EQ(0, bind(listener, &a.sa, len));
	ASSERT_EQ(0, listen(listener, 16));
	set_toa(254, TOA_IP4, TOA_PORT, true, true);
	client = tcp_connect(SRV4, PORT + 2);
	ASSERT_LE(0, client);
	len = sizeof(peer);
	server = accept(listener, &peer.sa, &len);
	ASSERT_LE(0, server);
	ASSERT_ADDR("192.0.2.7 4660", &peer);
	ASSERT_STREQ("192.0.2.7 4660", peer_str(server, buf, sizeof(buf)));
	close(client);
	close(server);
	close(listener);
}

/* Column @col of counter @stat's row (CPU columns first, in order). */
static long long stat_column(int stat, int col)
{
	char line[1024], *p, *end;
	size_t l = strlen(stat_names[stat]);
	long long v = -1;
	FILE *f = fopen("/proc/net/toa_stats", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, stat_names[stat], l) || line[l] != ':')
			continue;
		p = line + l + 1;
		for (int i = 0; i <= col; i++, p = end)
			v = strtoll(p, &end, 10);
	}
	if (f)
		fclose(f);
	return v;
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* The counts of a CPU taken offline stay in the sums: alloc == free. */
TEST(cpu_unplug_keeps_counts)
{
	long long before[TOA_STAT_COUNT], after[TOA_STAT_COUNT], on_cpu1;
	struct conn c;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 ||
	    access("/sys/devices/system/cpu/cpu1/online", W_OK))
		SKIP(return, "no CPU1 to take offline");
	pin_to_cpu(1);
	ASSERT_EQ(0, stats_read(before));
	on_cpu1 = stat_column(TOA_STAT_IP6_ADDRESS_ALLOC, 1);
	set_toa(254, TOA_IP4, TOA_PORT, true, true);
	conn_open(_metadata, &c, AF_INET, SRV4, false, SRV4);
	ASSERT_EQ(on_cpu1 + 1, stat_column(TOA_STAT_IP6_ADDRESS_ALLOC, 1))
		TH_LOG("the record was not counted on CPU1");
	pin_to_cpu(0);
	ASSERT_EQ(0, run("echo 0 > /sys/devices/system/cpu/cpu1/online"));
	conn_close(&c);
	stats_after_close(after);
	run("echo 1 > /sys/devices/system/cpu/cpu1/online");
	ASSERT_EQ(1, after[TOA_STAT_IP6_ADDRESS_ALLOC] - before[TOA_STAT_IP6_ADDRESS_ALLOC]);
	ASSERT_EQ(1, after[TOA_STAT_IP6_ADDRESS_FREE] - before[TOA_STAT_IP6_ADDRESS_FREE]);
}

static void read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, size - 1, f) : 0;

	buf[n] = 0;
	if (f)
		fclose(f);
}

/* Loads the tests' own module (test/kmod), built beside toa.ko. */
static int kmod_load(const char *params)
{
	const char *ko = getenv("TOA_KO");
	char cmd[1024];

	if (!ko)
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "insmod \"$(dirname %s)/test/kmod/toa_test_kmod.ko\" %s >/dev/null 2>&1",
		 ko, params);
	return run(cmd);
}

static int write_kpeer_fn(void *port)
{
	FILE *f = fopen("/proc/toa_test_kpeer", "w");
	int err = !f || fputs(port, f) < 0;

	return (f && fclose(f)) || err ? -1 : 0;
}

/*
 * In-kernel servers (nfsd, ksmbd, ...) decide on the real peer and may have
 * room for a sockaddr_in only: kernel_getpeername() is never toa's.
 */
FIXTURE(kernel_caller) {
	int client;
};

FIXTURE_VARIANT(kernel_caller) {
	const char *toa_ip;
};

FIXTURE_VARIANT_ADD(kernel_caller, v4_toa) {
	.toa_ip = TOA_IP4,
};

FIXTURE_VARIANT_ADD(kernel_caller, v6_toa) {
	.toa_ip = TOA_IP6,
};

FIXTURE_SETUP(kernel_caller)
{
	self->client = -1;
	ASSERT_EQ(0, kmod_load(""));
	ASSERT_EQ(0, in_netns(SRV_NS, write_kpeer_fn, "8090"));
}

FIXTURE_TEARDOWN(kernel_caller)
{
	close(self->client);
	run("rmmod toa_test_kmod");
}

TEST_F(kernel_caller, real_peer)
{
	long long before[TOA_STAT_COUNT], after[TOA_STAT_COUNT];
	char got[128] = "", want[128];

	ASSERT_EQ(0, stats_read(before));
	set_toa(254, variant->toa_ip, TOA_PORT, true, true);
	self->client = tcp_connect(SRV4, 8090);
	ASSERT_LE(0, self->client) TH_LOG("connect: %m");
	read_file("/proc/toa_test_kpeer", got, sizeof(got));
	snprintf(want, sizeof(want), "%s %d 16\n", CLI4,
		 client_port(self->client));
	ASSERT_STREQ(want, got);
	ASSERT_EQ(0, stats_read(after));
	ASSERT_EQ(1, after[TOA_STAT_SYN_RECV_SOCK_TOA] - before[TOA_STAT_SYN_RECV_SOCK_TOA]);
	ASSERT_EQ(0, after[TOA_STAT_GETNAME_TOA_OK] - before[TOA_STAT_GETNAME_TOA_OK]);
	ASSERT_EQ(0, after[TOA_STAT_GETNAME_TOA_MISMATCH] - before[TOA_STAT_GETNAME_TOA_MISMATCH]);
	ASSERT_EQ(0, after[TOA_STAT_GETNAME_TOA_EMPTY] - before[TOA_STAT_GETNAME_TOA_EMPTY]);
}

/* A namespace (a container) starts even when toa cannot make its file. */
TEST(netns_without_stats_file)
{
	unsigned long long log = kmsg_now();
	int loaded, netns, kept;

	ASSERT_EQ(0, run("rmmod toa"));
	ASSERT_EQ(0, kmod_load("squat_proc=1"));
	/* proc_register() warns of the second toa_stats: test/check.sh knows. */
	run("echo 'toa-test: expect WARNING at fs/proc/generic.c' > /dev/kmsg");
	loaded = toa_reload("");
	netns = run("ip netns add toa-squat");
	run("echo 'toa-test: expected warnings end' > /dev/kmsg");
	run("ip netns del toa-squat");
	run("rmmod toa");
	kept = run("grep -q \"not toa's\" /proc/net/toa_stats");
	run("rmmod toa_test_kmod");
	ASSERT_EQ(0, toa_reload(""));
	ASSERT_EQ(0, loaded) TH_LOG("toa refused to load");
	ASSERT_EQ(0, netns) TH_LOG("a new network namespace failed");
	ASSERT_EQ(0, kept) TH_LOG("toa removed another module's file");
	ASSERT_TRUE(kmsg_said(log, "cannot create /proc/net/toa_stats"));
}

/* Another redirect of a function toa hooks: refused, saying which. */
TEST(hooked_by_another)
{
	unsigned long long log = kmsg_now();
	int loaded, left;
	bool said;

	ASSERT_EQ(0, run("rmmod toa"));
	ASSERT_EQ(0, kmod_load("ipmodify=1"));
	loaded = toa_reload("");
	said = kmsg_said(log, "cannot hook tcp_v4_syn_recv_sock: a live patch or another module already redirects it");
	left = run("grep -q '^toa ' /proc/modules");
	run("rmmod toa_test_kmod");
	ASSERT_EQ(0, toa_reload(""));
	ASSERT_NE(0, loaded);
	ASSERT_TRUE(said);
	ASSERT_NE(0, left);
}

/* kinds=: 200 only when asked for; the set shows in sysfs. */
TEST(kinds_parameter)
{
	struct conn c;
	char buf[64];

	set_toa(200, TOA_IP4, TOA_PORT, true, true);
	conn_open(_metadata, &c, AF_INET, SRV4, false, SRV4);
	ASSERT_STREQ(CLI4, inet_ntoa(c.peer.sin.sin_addr))
		TH_LOG("kind 200 used without kinds=200");
	conn_close(&c);

	ASSERT_EQ(0, toa_reload("kinds=254,200"));
	read_file("/sys/module/toa/parameters/kinds", buf, sizeof(buf));
	ASSERT_STREQ("254,200\n", buf);
	conn_open(_metadata, &c, AF_INET, SRV4, false, SRV4);
	ASSERT_ADDR("192.0.2.7 4660", &c.peer);
	conn_close(&c);

	/* 253 is no longer in the set. */
	set_toa(253, TOA_IP6, TOA_PORT, true, true);
	conn_open(_metadata, &c, AF_INET6, SRV6, true, SRV6);
	addr_str(&c.peer, buf, sizeof(buf));
	ASSERT_EQ(0, strncmp(buf, CLI6, strlen(CLI6))) TH_LOG("peer %s", buf);
	conn_close(&c);

	ASSERT_EQ(0, toa_reload(""));
	read_file("/sys/module/toa/parameters/kinds", buf, sizeof(buf));
	ASSERT_STREQ("254,253\n", buf);
}

/* A kind TOA cannot use is refused at load, saying why. */
TEST(kinds_parameter_refused)
{
	unsigned long long log = kmsg_now();

	ASSERT_NE(0, toa_reload("kinds=2"));
	ASSERT_TRUE(kmsg_said(log, "kinds=2: not an option kind TOA can use"));
	ASSERT_NE(0, run("grep -q '^toa ' /proc/modules"));
	ASSERT_EQ(0, toa_reload(""));
}

/* ipv6_on_ipv4: the names, changed at run time; anything else refused. */
TEST(ipv6_on_ipv4_parameter)
{
	const char *path = "/sys/module/toa/parameters/ipv6_on_ipv4";
	unsigned long long log;
	struct stat st;
	char buf[64];

	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(0644, st.st_mode & 0777);
	read_file(path, buf, sizeof(buf));
	ASSERT_STREQ("sockaddr_in6\n", buf);
	ASSERT_EQ(0, toa_param_set("ipv6_on_ipv4", "proxy\n"));
	read_file(path, buf, sizeof(buf));
	ASSERT_STREQ("proxy\n", buf);

	log = kmsg_now();
	ASSERT_EQ(EINVAL, toa_param_set("ipv6_on_ipv4", "bogus\n"));
	ASSERT_TRUE(kmsg_said(log, "toa: ipv6_on_ipv4=bogus: not a choice; give sockaddr_in6 or proxy"));
	ASSERT_EQ(EINVAL, toa_param_set("ipv6_on_ipv4", "proxy2"));
	ASSERT_EQ(EINVAL, toa_param_set("ipv6_on_ipv4", "\n"));
	read_file(path, buf, sizeof(buf));
	ASSERT_STREQ("proxy\n", buf) TH_LOG("a refused value changed it");

	ASSERT_EQ(0, toa_param_set("ipv6_on_ipv4", "sockaddr_in6"));
	read_file(path, buf, sizeof(buf));
	ASSERT_STREQ("sockaddr_in6\n", buf);

	/* At load too. */
	ASSERT_EQ(0, toa_reload("ipv6_on_ipv4=proxy"));
	read_file(path, buf, sizeof(buf));
	ASSERT_STREQ("proxy\n", buf);
	ASSERT_NE(0, toa_reload("ipv6_on_ipv4=sockaddr_in4"));
	ASSERT_NE(0, run("grep -q '^toa ' /proc/modules"));
	ASSERT_EQ(0, toa_reload(""));
	read_file(path, buf, sizeof(buf));
	ASSERT_STREQ("sockaddr_in6\n", buf);
}

TEST(load_message)
{
	unsigned long long log = kmsg_now();

	ASSERT_EQ(0, toa_reload(""));
	ASSERT_TRUE(kmsg_said(log, "toa: loaded: hooked .*option kinds 254,253"));
}

/* Unloaded: the proxy's address, as if toa had never been there. */
TEST(without_module)
{
	struct conn c;

	ASSERT_EQ(0, run("rmmod toa"));
	ASSERT_NE(0, access("/proc/net/toa_stats", F_OK));
	set_toa(254, TOA_IP4, TOA_PORT, true, true);
	conn_open(_metadata, &c, AF_INET, SRV4, false, SRV4);
	ASSERT_STREQ(CLI4, inet_ntoa(c.peer.sin.sin_addr));
	conn_close(&c);
	ASSERT_EQ(0, toa_reload(""));
}

static int read_stats_fn(void *arg)
{
	read_file("/proc/net/toa_stats", arg, 4096);
	return 0;
}

/* A column per online CPU, a row per counter, the guide's names. */
TEST(proc_format)
{
	char buf[4096], *line, *save = NULL, *tok, *save2;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int row = 0, cols;

	read_file("/proc/net/toa_stats", buf, sizeof(buf));
	line = strtok_r(buf, "\n", &save);
	ASSERT_NE(NULL, line);
	cols = 0;
	for (tok = strtok_r(line, " ", &save2); tok;
	     tok = strtok_r(NULL, " ", &save2)) {
		char want[16];

		snprintf(want, sizeof(want), "CPU%d", cols++);
		ASSERT_STREQ(want, tok);
	}
	ASSERT_EQ(cpus, cols);
	while ((line = strtok_r(NULL, "\n", &save))) {
		char name[32];

		ASSERT_LT(row, TOA_STAT_COUNT);
		snprintf(name, sizeof(name), "%s:", stat_names[row++]);
		tok = strtok_r(line, " ", &save2);
		ASSERT_STREQ(name, tok);
		cols = 0;
		while ((tok = strtok_r(NULL, " ", &save2)))
			cols++;
		ASSERT_EQ(cpus, cols);
	}
	ASSERT_EQ(TOA_STAT_COUNT, row);

	/* Servers in other namespaces see it too. */
	buf[0] = 0;
	in_netns(SRV_NS, read_stats_fn, buf);
	ASSERT_EQ(0, strncmp(buf + strspn(buf, " "), "CPU0", 4));
}

TOA_HARNESS_MAIN
