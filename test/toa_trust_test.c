// SPDX-License-Identifier: GPL-2.0
/*
 * Trusted sources: TOA is used only from a source in /proc/net/toa_trusted
 * (or trusted= at load), over real connections from two client addresses,
 * one trusted and one not, with the option checked on the wire. Also: the
 * addresses no proxy sends, the list's format and refusals, per-namespace
 * lists, who may write, and replacements racing handshakes.
 */
#include "toa_wire.h"
#include <pthread.h>
#include <stdatomic.h>
#include "kselftest_harness.h"

#define PORT		9090
#define TRUSTED		"/proc/net/toa_trusted"
/* A second client address, next to CLI4 and CLI6. */
#define CLI4_B		"10.88.0.3"
#define CLI6_B		"fd88::3"
#define TOA4_PEER	"192.0.2.7 4660"
#define TOA4_PEER6	"::ffff:192.0.2.7 4660"

struct trust_io {
	const char *text;
	char *buf;
	size_t size;
};

static int trust_write_fn(void *arg)
{
	struct trust_io *io = arg;
	int fd = open(TRUSTED, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, io->text, strlen(io->text));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

/* Writes @text as namespace @ns's list (NULL: the initial one): 0 or -errno. */
static int trust_write(const char *ns, const char *text)
{
	struct trust_io io = { .text = text };

	return ns ? in_netns(ns, trust_write_fn, &io) : trust_write_fn(&io);
}

static int trust_read_fn(void *arg)
{
	struct trust_io *io = arg;
	FILE *f = fopen(TRUSTED, "r");
	size_t n = f ? fread(io->buf, 1, io->size - 1, f) : 0;

	io->buf[n] = 0;
	if (f)
		fclose(f);
	return f ? 0 : -1;
}

/* Namespace @ns's list as read back (NULL: the initial namespace). */
static const char *trust_read(const char *ns, char *buf, size_t size)
{
	struct trust_io io = { .buf = buf, .size = size };

	if ((ns ? in_netns(ns, trust_read_fn, &io) : trust_read_fn(&io)))
		snprintf(buf, size, "(unreadable)");
	return buf;
}

/* One connection's outcome: what the server was told, the counter moves. */
struct outcome {
	char peer[96];
	long long delta[TOA_STAT_COUNT];
	bool toa_on_wire;
};

static int listen_cli_fn(void *arg)
{
	union addr a;
	socklen_t len = addr_make(&a, CLI4, PORT);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd >= 0 && (bind(fd, &a.sa, len) || listen(fd, 64))) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A connection from @src to @dst on @listener, with @toa (an option, as
 * toa_opt() makes it) on the client's segments; the capture confirms the
 * option crossed the wire (the client namespace's own server has no wire).
 */
static void connect_once(struct __test_metadata *_metadata, int listener,
			 const char *src, const char *dst, const uint8_t *toa,
			 bool capture, struct outcome *o)
{
	long long before[TOA_STAT_COUNT], after[TOA_STAT_COUNT];
	struct capture cap;
	int client, server;

	memset(o, 0, sizeof(*o));
	ASSERT_EQ(0, stats_read(before));
	if (capture)
		capture_start(&cap, PORT);
	client = tcp_connect_from(src, dst, PORT);
	ASSERT_LE(0, client) TH_LOG("connect from %s to %s: %m", src, dst);
	server = accept(listener, NULL, NULL);
	ASSERT_LE(0, server) TH_LOG("accept: %m");
	if (capture) {
		capture_end(&cap);
		o->toa_on_wire = cap.ack_len > 0 &&
				 opts_have(cap.ack_opts, cap.ack_len, toa);
	}
	peer_str(server, o->peer, sizeof(o->peer));
	ASSERT_EQ(0, stats_read(after));
	for (int i = 0; i < TOA_STAT_COUNT; i++)
		o->delta[i] = after[i] - before[i];
	close_reset(client);
	close_reset(server);
}

FIXTURE(trust) {
	uint8_t toa[40];
	int toa_len;
};

FIXTURE_SETUP(trust)
{
	/* Loaded again if a test before stopped (a time limit) with toa unloaded. */
	if (access("/proc/net/toa_trusted", F_OK))
		ASSERT_EQ(0, toa_reload(""));
	ASSERT_EQ(0, run("ip -n " CLI_NS " addr replace " CLI4_B "/24 dev cli0 && "
			 "ip -n " CLI_NS " addr replace " CLI6_B "/64 dev cli0 nodad"));
	ASSERT_EQ(0, trust_write(NULL, "\n"));
	ASSERT_EQ(0, trust_write(SRV_NS, "\n"));
	ASSERT_EQ(0, trust_write(CLI_NS, "\n"));
	self->toa_len = toa_opt(self->toa, 254, TOA_IP4, TOA_PORT);
	client_opt(self->toa, self->toa_len, true, true);
}

FIXTURE_TEARDOWN(trust)
{
	trust_write(NULL, "\n");
	trust_write(SRV_NS, "\n");
	trust_write(CLI_NS, "\n");
	client_opt(NULL, 0, false, false);
	run("ip -n " CLI_NS " addr del " CLI4_B "/24 dev cli0; "
	    "ip -n " CLI_NS " addr del " CLI6_B "/64 dev cli0");
}

/* The client's own address as the server sees it without TOA. */
static bool peer_is_real(const struct outcome *o, const char *ip)
{
	char want[64];

	snprintf(want, sizeof(want), "%s ", ip);
	return !strncmp(o->peer, want, strlen(want));
}

/* The TOA address used: counted once as TOA, nothing else. */
#define ASSERT_TOA_USED(o, want) do {					\
	ASSERT_TRUE((o)->toa_on_wire);					\
	ASSERT_STREQ(want, (o)->peer);					\
	ASSERT_EQ(1, (o)->delta[TOA_STAT_SYN_RECV_SOCK_TOA]);		\
	ASSERT_EQ(0, (o)->delta[TOA_STAT_SYN_RECV_SOCK_NO_TOA]);	\
	ASSERT_EQ(0, (o)->delta[TOA_STAT_SYN_RECV_SOCK_TOA_UNTRUSTED]);	\
} while (0)

/* TOA from an untrusted source: the real source, counted once as such. */
#define ASSERT_UNTRUSTED(o, ip) do {					\
	ASSERT_TRUE((o)->toa_on_wire);					\
	ASSERT_TRUE(peer_is_real(o, ip)) TH_LOG("peer %s", (o)->peer);	\
	ASSERT_EQ(1, (o)->delta[TOA_STAT_SYN_RECV_SOCK_TOA_UNTRUSTED]);	\
	ASSERT_EQ(0, (o)->delta[TOA_STAT_SYN_RECV_SOCK_TOA]);		\
	ASSERT_EQ(0, (o)->delta[TOA_STAT_SYN_RECV_SOCK_NO_TOA]);	\
	ASSERT_EQ(0, (o)->delta[TOA_STAT_IP6_ADDRESS_ALLOC]);		\
} while (0)

TEST_F(trust, no_list_accepts_any_source)
{
	int l = tcp_listen(AF_INET, SRV4, PORT, false);
	struct outcome o;
	char buf[64];

	ASSERT_LE(0, l);
	ASSERT_STREQ("", trust_read(NULL, buf, sizeof(buf)));
	connect_once(_metadata, l, CLI4_B, SRV4, self->toa, true, &o);
	ASSERT_TOA_USED(&o, TOA4_PEER);
	close(l);
}

TEST_F(trust, ipv4_list)
{
	int l = tcp_listen(AF_INET, SRV4, PORT, false);
	struct outcome o;

	ASSERT_LE(0, l);
	ASSERT_EQ(0, trust_write(NULL, CLI4 "/32\n"));
	connect_once(_metadata, l, CLI4, SRV4, self->toa, true, &o);
	ASSERT_TOA_USED(&o, TOA4_PEER);
	connect_once(_metadata, l, CLI4_B, SRV4, self->toa, true, &o);
	ASSERT_UNTRUSTED(&o, CLI4_B);

	/* A list of IPv6 prefixes only trusts no IPv4 source. */
	ASSERT_EQ(0, trust_write(NULL, CLI6 "/128"));
	connect_once(_metadata, l, CLI4, SRV4, self->toa, true, &o);
	ASSERT_UNTRUSTED(&o, CLI4);
	close(l);
}

TEST_F(trust, ipv6_list)
{
	int l = tcp_listen(AF_INET6, SRV6, PORT, true);
	struct outcome o;

	ASSERT_LE(0, l);
	ASSERT_EQ(0, trust_write(NULL, "fd88::/126," CLI4_B "/32"));
	connect_once(_metadata, l, CLI6, SRV6, self->toa, true, &o);
	ASSERT_TOA_USED(&o, TOA4_PEER6);
	connect_once(_metadata, l, CLI6_B, SRV6, self->toa, true, &o);
	ASSERT_TOA_USED(&o, TOA4_PEER6);

	ASSERT_EQ(0, trust_write(NULL, CLI6 "/128 " CLI4_B "/32"));
	connect_once(_metadata, l, CLI6_B, SRV6, self->toa, true, &o);
	ASSERT_UNTRUSTED(&o, CLI6_B);
	connect_once(_metadata, l, CLI6, SRV6, self->toa, true, &o);
	ASSERT_TOA_USED(&o, TOA4_PEER6);
	close(l);
}

/* An IPv4 client of a dual-stack listener is matched by the IPv4 list. */
TEST_F(trust, dual_stack_listener_ipv4_client)
{
	int l = tcp_listen(AF_INET6, "::", PORT, false);
	struct outcome o;

	ASSERT_LE(0, l);
	ASSERT_EQ(0, trust_write(NULL, CLI4 "/32"));
	connect_once(_metadata, l, CLI4, SRV4, self->toa, true, &o);
	ASSERT_TOA_USED(&o, TOA4_PEER6);

	/* Its address as IPv4-mapped IPv6 is not its IPv4 address. */
	ASSERT_EQ(0, trust_write(NULL, "::ffff:" CLI4 "/128," CLI6 "/128"));
	connect_once(_metadata, l, CLI4, SRV4, self->toa, true, &o);
	ASSERT_UNTRUSTED(&o, "::ffff:" CLI4);
	close(l);
}

/* Addresses no proxy sends: ignored, even from a trusted source. */
TEST_F(trust, unusable_addresses_ignored)
{
	static const char * const spoofed[] = {
		"127.0.0.1", "::1", "::ffff:127.0.0.1", "fe80::1",
	};
	int l = tcp_listen(AF_INET6, "::", PORT, false);
	uint8_t opt[40];
	struct outcome o;

	ASSERT_LE(0, l);
	for (int list = 0; list < 2; list++) {
		ASSERT_EQ(0, trust_write(NULL, list ? CLI4 "/32" : "\n"));
		for (size_t i = 0; i < sizeof(spoofed) / sizeof(*spoofed); i++) {
			client_opt(opt, toa_opt(opt, 254, spoofed[i], 80),
				   true, true);
			connect_once(_metadata, l, CLI4, SRV4, opt, true, &o);
			ASSERT_TRUE(o.toa_on_wire) TH_LOG("%s", spoofed[i]);
			ASSERT_TRUE(peer_is_real(&o, "::ffff:" CLI4))
				TH_LOG("TOA %s: peer %s", spoofed[i], o.peer);
			ASSERT_EQ(1, o.delta[TOA_STAT_SYN_RECV_SOCK_NO_TOA]);
			ASSERT_EQ(0, o.delta[TOA_STAT_SYN_RECV_SOCK_TOA]);
			ASSERT_EQ(0, o.delta[TOA_STAT_SYN_RECV_SOCK_TOA_UNTRUSTED]);
		}
	}
	close(l);
}

/* Read back sorted and merged, the fewest prefixes; host bits masked. */
TEST_F(trust, read_back_normalised)
{
	unsigned long long log = kmsg_now();
	char buf[512];

	ASSERT_EQ(0, trust_write(NULL, "2001:db8::/48, 10.0.0.128/25,10.0.0.0/25\n"
				 "192.0.2.0/24\t10.0.1.0/25,10.0.0.5,2001:db8:1::/48\n"
				 "2001:db8::1/128 198.51.100.77/24\n"));
	ASSERT_STREQ("10.0.0.0/24\n10.0.1.0/25\n192.0.2.0/24\n198.51.100.0/24\n"
		     "2001:db8::/47\n", trust_read(NULL, buf, sizeof(buf)));
	ASSERT_TRUE(kmsg_said(log, "198.51.100.77/24 has host bits set: using 198.51.100.0/24"));

	/* What is read back, written again, is the same list. */
	ASSERT_EQ(0, trust_write(NULL, buf));
	ASSERT_STREQ("10.0.0.0/24\n10.0.1.0/25\n192.0.2.0/24\n198.51.100.0/24\n"
		     "2001:db8::/47\n", trust_read(NULL, buf, sizeof(buf)));

	/* The whole of each space, and a range not aligned at either end. */
	ASSERT_EQ(0, trust_write(NULL, "::/0,0.0.0.0/0,::1"));
	ASSERT_STREQ("0.0.0.0/0\n::/0\n", trust_read(NULL, buf, sizeof(buf)));
	ASSERT_EQ(0, trust_write(NULL, "10.0.0.1,10.0.0.2/31,10.0.0.4/30,10.0.0.8"));
	ASSERT_STREQ("10.0.0.1/32\n10.0.0.2/31\n10.0.0.4/30\n10.0.0.8/32\n",
		     trust_read(NULL, buf, sizeof(buf)));

	/* A lone newline removes the list. */
	ASSERT_EQ(0, trust_write(NULL, "\n"));
	ASSERT_STREQ("", trust_read(NULL, buf, sizeof(buf)));
}

/* Each refusal: its error, a dmesg line naming what is wrong, no change. */
TEST_F(trust, bad_input_changes_nothing)
{
	static const struct {
		const char *text, *dmesg;
		int err;
	} bad[] = {
		{ "10.0.0.0/33", "'10.0.0.0/33' is not an IPv4 or IPv6 prefix", EINVAL },
		{ "2001:db8::/129", "'2001:db8::/129' is not an IPv4", EINVAL },
		{ "10.1.0.0/16,proxy.example", "'proxy.example' is not an IPv4", EINVAL },
		{ "10.0.0.0/", "'10.0.0.0/' is not an IPv4", EINVAL },
		{ "10.0.0/24", "'10.0.0/24' is not an IPv4", EINVAL },
		{ "10.0.0.0/-1", "'10.0.0.0/-1' is not an IPv4", EINVAL },
		{ "10.0.0.0/24x", "'10.0.0.0/24x' is not an IPv4", EINVAL },
		{ "fe80::1%eth0/64", "'fe80::1%eth0/64' is not an IPv4", EINVAL },
		{ "10.1.0.0/16,,10.2.0.0/16", "an empty prefix", EINVAL },
		{ ",10.1.0.0/16", "an empty prefix", EINVAL },
		{ "10.1.0.0/16,\n", "an empty prefix", EINVAL },
	};
	static char big[8192];
	char before[256], after[256], said[256];
	unsigned long long log;

	ASSERT_EQ(0, trust_write(NULL, "203.0.113.0/24,2001:db8:1::/48"));
	trust_read(NULL, before, sizeof(before));
	ASSERT_STREQ("203.0.113.0/24\n2001:db8:1::/48\n", before);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		log = kmsg_now();
		ASSERT_EQ(-bad[i].err, trust_write(NULL, bad[i].text))
			TH_LOG("'%s'", bad[i].text);
		snprintf(said, sizeof(said), "toa_trusted: %s", bad[i].dmesg);
		ASSERT_TRUE(kmsg_said(log, said))
			TH_LOG("no dmesg line for '%s'", bad[i].text);
		ASSERT_STREQ(before, trust_read(NULL, after, sizeof(after)));
	}

	/* The list comes in one write of a page at most. */
	for (size_t i = 0; i + 12 < sizeof(big); i += 11)
		memcpy(big + i, "10.0.0.0/8,", 11);
	big[strlen(big) - 1] = 0;
	log = kmsg_now();
	ASSERT_EQ(-E2BIG, trust_write(NULL, big));
	ASSERT_TRUE(kmsg_said(log, "toa_trusted: a write of [0-9]* bytes, more than a page"));
	ASSERT_STREQ(before, trust_read(NULL, after, sizeof(after)));
}

static int toa_load(const char *params)
{
	int fd = open(getenv("TOA_KO"), O_RDONLY), ret;

	run("rmmod toa 2>/dev/null");
	if (fd < 0)
		return -errno;
	ret = syscall(__NR_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* trusted= at load: the list in force from the start, refused when bad. */
TEST_F(trust, load_parameter)
{
	size_t size = 4097 * 16 + 16, used;
	char *params = malloc(size), *buf = malloc(4097 * 16);
	unsigned long long log = kmsg_now();
	int l, lines = 0;
	struct outcome o;

	ASSERT_NE(NULL, params);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, toa_load("trusted=" CLI4_B "/32,2001:db8:1::/48"));
	ASSERT_STREQ(CLI4_B "/32\n2001:db8:1::/48\n", trust_read(NULL, buf, 4096));
	ASSERT_FALSE(kmsg_said(log, "accepted from any source"));
	l = tcp_listen(AF_INET, SRV4, PORT, false);
	ASSERT_LE(0, l);
	connect_once(_metadata, l, CLI4, SRV4, self->toa, true, &o);
	ASSERT_UNTRUSTED(&o, CLI4);
	connect_once(_metadata, l, CLI4_B, SRV4, self->toa, true, &o);
	ASSERT_TOA_USED(&o, TOA4_PEER);
	close(l);

	/* Refused, saying why, with nothing left loaded. */
	log = kmsg_now();
	ASSERT_EQ(-EINVAL, toa_load("trusted=10.0.0.0/8,10.0.0.0/33"));
	ASSERT_TRUE(kmsg_said(log, "trusted=: '10.0.0.0/33' is not an IPv4 or IPv6 prefix"));
	ASSERT_NE(0, run("grep -q '^toa ' /proc/modules"));

	/* The maximum, 4096 prefixes, and one more. */
	used = snprintf(params, size, "trusted=");
	for (int i = 0; i < 4097; i++)
		used += snprintf(params + used, size - used, "%s10.%d.%d.0/24",
				 i ? "," : "", i / 256, i % 256);
	log = kmsg_now();
	ASSERT_EQ(-E2BIG, toa_load(params));
	ASSERT_TRUE(kmsg_said(log, "trusted=: more than 4096 prefixes, from '10.16.0.0/24' on"));
	ASSERT_NE(0, run("grep -q '^toa ' /proc/modules"));
	/* Every other /32, so that nothing merges. */
	used = snprintf(params, size, "trusted=");
	for (int i = 0; i < 4096; i++)
		used += snprintf(params + used, size - used, "%s10.0.%d.%d",
				 i ? "," : "", i / 128, i % 128 * 2);
	ASSERT_EQ(0, toa_load(params));
	trust_read(NULL, buf, 4097 * 16);
	for (char *p = buf; (p = strchr(p, '\n')); p++)
		lines++;
	ASSERT_EQ(4096, lines);
	ASSERT_EQ(0, strncmp(buf, "10.0.0.0/32\n10.0.0.2/32\n", 24));

	/* Without a list, dmesg says so once, and how to give one. */
	log = kmsg_now();
	ASSERT_EQ(0, toa_reload(""));
	ASSERT_TRUE(kmsg_said(log, "TOA is accepted from any source: .*trusted= or /proc/net/toa_trusted"));
	free(params);
	free(buf);
}

/*
 * A namespace's own list narrows the initial namespace's for that namespace
 * only, and cannot widen it.
 */
TEST_F(trust, namespace_list_narrows)
{
	int l = tcp_listen(AF_INET, SRV4, PORT, false);
	int lc = in_netns(CLI_NS, listen_cli_fn, NULL);
	struct outcome o;
	char buf[64];

	ASSERT_LE(0, l);
	ASSERT_LE(0, lc);
	ASSERT_EQ(0, trust_write(NULL, "10.88.0.0/24"));
	ASSERT_EQ(0, trust_write(SRV_NS, CLI4_B "/32"));
	ASSERT_STREQ(CLI4_B "/32\n", trust_read(SRV_NS, buf, sizeof(buf)));
	ASSERT_STREQ("", trust_read(CLI_NS, buf, sizeof(buf)));
	ASSERT_STREQ("10.88.0.0/24\n", trust_read(NULL, buf, sizeof(buf)));

	connect_once(_metadata, l, CLI4, SRV4, self->toa, true, &o);
	ASSERT_UNTRUSTED(&o, CLI4);
	connect_once(_metadata, l, CLI4_B, SRV4, self->toa, true, &o);
	ASSERT_TOA_USED(&o, TOA4_PEER);
	/* The client namespace has no list of its own: the initial one's. */
	connect_once(_metadata, lc, CLI4_B, CLI4, self->toa, false, &o);
	ASSERT_STREQ(TOA4_PEER, o.peer);
	ASSERT_EQ(1, o.delta[TOA_STAT_SYN_RECV_SOCK_TOA]);

	/* Not wider than the initial namespace's. */
	ASSERT_EQ(0, trust_write(NULL, CLI4_B "/32"));
	ASSERT_EQ(0, trust_write(SRV_NS, "10.88.0.0/24"));
	connect_once(_metadata, l, CLI4, SRV4, self->toa, true, &o);
	ASSERT_UNTRUSTED(&o, CLI4);
	connect_once(_metadata, lc, CLI4, CLI4, self->toa, false, &o);
	ASSERT_TRUE(peer_is_real(&o, CLI4)) TH_LOG("peer %s", o.peer);
	ASSERT_EQ(1, o.delta[TOA_STAT_SYN_RECV_SOCK_TOA_UNTRUSTED]);
	close(l);
	close(lc);
}

/* Root of a new user namespace has no CAP_NET_ADMIN over the initial one. */
TEST_F(trust, user_namespace_cannot_write_initial)
{
	char before[64], after[64];
	int status;
	pid_t pid;

	ASSERT_EQ(0, trust_write(NULL, "203.0.113.0/24"));
	trust_read(NULL, before, sizeof(before));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd, err;

		if (unshare(CLONE_NEWUSER))
			_exit(10);
		/* The file is root's and 0644: the open succeeds. */
		fd = open(TRUSTED, O_WRONLY);
		if (fd < 0)
			_exit(11);
		err = write(fd, "0.0.0.0/0", 9) < 0 ? errno : 0;
		_exit(err == EPERM ? 0 : 12);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("1x: unshare, open, write not EPERM");
	ASSERT_STREQ(before, trust_read(NULL, after, sizeof(after)));

	/* Its own network namespace's list it may write. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char buf[64];

		if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
			_exit(10);
		if (trust_write(NULL, "198.51.100.0/24"))
			_exit(11);
		trust_read(NULL, buf, sizeof(buf));
		_exit(strcmp(buf, "198.51.100.0/24\n") ? 12 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_STREQ(before, trust_read(NULL, after, sizeof(after)));
}

/*
 * The list replaced 100 times, each time trusting the other of two client
 * addresses, while connections from both churn. Every answer must agree
 * with a list that was in force during its handshake: exactly, when none
 * was replaced meanwhile. Where a handshake outlasts the writer's pause
 * (the debug kernel under TCG), every one spans a replacement: connections
 * go on after the last until one is checked exactly.
 */
struct churn {
	int fd;
	atomic_int version;	/* odd while a write is under way */
	int errors;
};

static const char * const churn_lists[2] = { CLI4 "/32", CLI4_B "/32" };

static void *churn_writer(void *arg)
{
	struct churn *c = arg;

	for (int i = 1; i <= 100; i++) {
		const char *text = churn_lists[i % 2];

		atomic_fetch_add(&c->version, 1);
		if (write(c->fd, text, strlen(text)) != (ssize_t)strlen(text))
			c->errors++;
		atomic_fetch_add(&c->version, 1);
		usleep(10000);
	}
	return NULL;
}

TEST_F(trust, replaced_while_connections_churn)
{
	static const char * const src[2] = { CLI4, CLI4_B };
	int l = tcp_listen(AF_INET, SRV4, PORT, false), exact = 0, n = 0;
	struct churn c = { 0 };
	pthread_t writer;

	ASSERT_LE(0, l);
	ASSERT_EQ(0, trust_write(NULL, churn_lists[0]));
	c.fd = open(TRUSTED, O_WRONLY);
	ASSERT_LE(0, c.fd);
	ASSERT_EQ(0, pthread_create(&writer, NULL, churn_writer, &c));
	while (atomic_load(&c.version) < 200 || !exact) {
		const char *from = src[n++ % 2];
		int v0 = atomic_load(&c.version), v1, client, server;
		char peer[96];
		bool toa;

		client = tcp_connect_from(from, SRV4, PORT);
		ASSERT_LE(0, client);
		server = accept(l, NULL, NULL);
		ASSERT_LE(0, server);
		v1 = atomic_load(&c.version);
		peer_str(server, peer, sizeof(peer));
		close_reset(client);
		close_reset(server);

		toa = !strcmp(peer, TOA4_PEER);
		ASSERT_TRUE(toa || !strncmp(peer, from, strlen(from)))
			TH_LOG("from %s: peer %s", from, peer);
		if (v0 == v1 && !(v0 % 2)) {
			/* Version v0 is the (v0 / 2)th write's list. */
			const char *list = churn_lists[v0 / 2 % 2];

			ASSERT_EQ(!strncmp(list, from, strlen(from)), toa)
				TH_LOG("from %s, list %s: peer %s", from, list,
				       peer);
			exact++;
		}
	}
	pthread_join(writer, NULL);
	close(c.fd);
	close(l);
	ASSERT_EQ(0, c.errors);
	TH_LOG("%d connections, %d with no replacement during the handshake",
	       n, exact);
}

TOA_HARNESS_MAIN
