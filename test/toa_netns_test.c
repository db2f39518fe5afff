// SPDX-License-Identifier: GPL-2.0
/*
 * What each network namespace sees: two namespaces with servers and TOA
 * clients (toa-srv, reached from toa-cli, and one made here, where clients
 * connect over its loopback), each with its own /proc/net/toa_stats and
 * /proc/net/toa_table, the initial namespace's stats the sum. toa_table is
 * read while connections churn, and is root's only.
 */
#include "toa_wire.h"
#include <sys/stat.h>
#include "kselftest_harness.h"

#define NS2		"toa-ns2"
#define LO4		"127.0.0.1"
#define PORT		9300	/* toa-srv, IPv4 */
#define PORT6		9301	/* toa-srv, IPv6 only */
#define PORT_DUAL	9302	/* toa-srv, dual-stack, an IPv4 client */
#define PORT2		9303	/* toa-ns2, IPv4 on loopback */
#define SRV_CONNS	3
#define NS2_CONNS	2
#define CONNS		(SRV_CONNS + 2 + NS2_CONNS)
#define TABLE_HEADER	"local proxy client inode\n"

/* The namespaces whose files are compared: the initial one is "". */
enum { V_INIT, V_SRV, V_NS2, V_CLI, VIEWS };
static const char * const views[VIEWS] = { "", SRV_NS, NS2, CLI_NS };

FIXTURE(two_ns) {
	int listener[4];
	int client[CONNS], server[CONNS];
	char line[CONNS][160];	/* each server's expected toa_table line */
	long long before[VIEWS][TOA_STAT_COUNT];
};

static int stats_of(int view, long long *stats)
{
	return view == V_INIT ? stats_read(stats) :
				stats_read_in(views[view], stats);
}

/* "ip:port" as ss prints it, from a sockaddr. */
static void ss_addr(const union addr *a, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (a->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a->sin.sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%d", ip, ntohs(a->sin.sin_port));
	} else {
		inet_ntop(AF_INET6, &a->sin6.sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%d", ip, ntohs(a->sin6.sin6_port));
	}
}

/*
 * Connection @i from @cli_ns to @ip:@port of listener @l, carrying TOA
 * @toa_ip; its toa_table line is what the kernel says of the server socket.
 */
static void open_conn(struct __test_metadata *_metadata,
		      FIXTURE_DATA(two_ns) *self, int i, const char *cli_ns,
		      int l, const char *ip, int port, const char *toa_ip)
{
	char local[64], proxy[64], client[64];
	union addr a;
	socklen_t len;
	struct stat st;
	uint8_t opt[40];
	char peer[64];

	client_opt(opt, toa_opt(opt, 254, toa_ip, TOA_PORT), true, true);
	self->client[i] = tcp_connect_in(cli_ns, ip, port);
	ASSERT_LE(0, self->client[i]) TH_LOG("connect to %s %d: %m", ip, port);
	self->server[i] = accept(self->listener[l], NULL, NULL);
	ASSERT_LE(0, self->server[i]);
	/* A dual-stack listener's socket has IPv4 TOA IPv4-mapped. */
	snprintf(peer, sizeof(peer), "%s%s", l == 2 ? "::ffff:" : "", toa_ip);
	ASSERT_TRUE(peer_is(self->server[i], peer, TOA_PORT));

	len = sizeof(a);
	ASSERT_EQ(0, getsockname(self->server[i], &a.sa, &len));
	ss_addr(&a, local, sizeof(local));
	len = sizeof(a);
	ASSERT_EQ(0, getsockname(self->client[i], &a.sa, &len));
	if (strchr(local, '[') && a.sa.sa_family == AF_INET) {
		/* A dual-stack listener's socket: the peer IPv4-mapped. */
		snprintf(proxy, sizeof(proxy), "[::ffff:%s",
			 inet_ntoa(a.sin.sin_addr));
		snprintf(proxy + strlen(proxy), sizeof(proxy) - strlen(proxy),
			 "]:%d", ntohs(a.sin.sin_port));
	} else {
		ss_addr(&a, proxy, sizeof(proxy));
	}
	addr_make(&a, toa_ip, TOA_PORT);
	ss_addr(&a, client, sizeof(client));
	ASSERT_EQ(0, fstat(self->server[i], &st));
	snprintf(self->line[i], sizeof(self->line[i]), "%s %s %s %lu\n",
		 local, proxy, client, (unsigned long)st.st_ino);
}

FIXTURE_SETUP(two_ns)
{
	int i = 0, v;

	memset(self->client, -1, sizeof(self->client));
	memset(self->server, -1, sizeof(self->server));
	ASSERT_EQ(0, toa_reload(""));
	/* A run that died leaves it behind. */
	run("ip netns del " NS2 " 2>/dev/null");
	ASSERT_EQ(0, run("ip netns add " NS2 " && ip -n " NS2 " link set lo up"));
	for (v = 0; v < VIEWS; v++)
		ASSERT_EQ(0, stats_of(v, self->before[v]));

	self->listener[0] = tcp_listen(AF_INET, SRV4, PORT, false);
	self->listener[1] = tcp_listen(AF_INET6, SRV6, PORT6, true);
	self->listener[2] = tcp_listen(AF_INET6, "::", PORT_DUAL, false);
	self->listener[3] = tcp_listen_in(NS2, AF_INET, LO4, PORT2, false);
	for (v = 0; v < 4; v++)
		ASSERT_LE(0, self->listener[v]) TH_LOG("listener %d: %m", v);
	for (; i < SRV_CONNS; i++)
		open_conn(_metadata, self, i, CLI_NS, 0, SRV4, PORT, TOA_IP4);
	open_conn(_metadata, self, i++, CLI_NS, 1, SRV6, PORT6, TOA_IP6);
	open_conn(_metadata, self, i++, CLI_NS, 2, SRV4, PORT_DUAL, TOA_IP4);
	for (; i < CONNS; i++)
		open_conn(_metadata, self, i, NS2, 3, LO4, PORT2, TOA_IP4);
}

static void close_conns(FIXTURE_DATA(two_ns) *self)
{
	for (int i = 0; i < CONNS; i++) {
		if (self->client[i] >= 0)
			close_reset(self->client[i]);
		if (self->server[i] >= 0)
			close(self->server[i]);
		self->server[i] = self->client[i] = -1;
	}
}

static void close_all(FIXTURE_DATA(two_ns) *self)
{
	close_conns(self);
	for (int l = 0; l < 4; l++)
		if (self->listener[l] >= 0)
			close(self->listener[l]);
	memset(self->listener, -1, sizeof(self->listener));
}

FIXTURE_TEARDOWN(two_ns)
{
	close_all(self);
	run("ip netns del " NS2);
}

/* Counters of the servers in toa-srv, of those in toa-ns2, of neither. */
static const int conns_of[VIEWS] = {
	[V_INIT] = CONNS, [V_SRV] = SRV_CONNS + 2, [V_NS2] = NS2_CONNS,
};

static int stats_after_close_fn(void *stats)
{
	stats_after_close(stats);
	return 0;
}

TEST_F(two_ns, stats_per_namespace)
{
	long long after[VIEWS][TOA_STAT_COUNT];
	int v, s;

	for (v = 0; v < VIEWS; v++) {
		ASSERT_EQ(0, stats_of(v, after[v]));
		for (s = 0; s < TOA_STAT_COUNT; s++) {
			long long want = 0;

			/* IPv6 TOA through an IPv6 socket is no mismatch. */
			if (s == TOA_STAT_SYN_RECV_SOCK_TOA ||
			    s == TOA_STAT_GETNAME_TOA_OK ||
			    s == TOA_STAT_IP6_ADDRESS_ALLOC)
				want = conns_of[v];
			EXPECT_EQ(want, after[v][s] - self->before[v][s])
				TH_LOG("%s in namespace \"%s\"", stat_names[s],
				       views[v]);
		}
	}

	close_conns(self);
	for (v = 0; v < VIEWS; v++) {
		if (v == V_INIT)
			stats_after_close(after[v]);
		else
			in_netns(views[v], stats_after_close_fn, after[v]);
		EXPECT_EQ(conns_of[v], after[v][TOA_STAT_IP6_ADDRESS_FREE] -
				       self->before[v][TOA_STAT_IP6_ADDRESS_FREE])
			TH_LOG("ip6_address_free in namespace \"%s\"", views[v]);
	}
}

/* The whole of /proc/net/toa_table, from the namespace we are in. */
static int table_read_fn(void *buf)
{
	int fd = open("/proc/net/toa_table", O_RDONLY);
	ssize_t n, len = 0;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, (char *)buf + len, 65535 - len)) > 0)
		len += n;
	((char *)buf)[len] = 0;
	close(fd);
	return n < 0 ? -1 : 0;
}

static int table_of(int view, char *buf)
{
	return view == V_INIT ? table_read_fn(buf) :
				in_netns(views[view], table_read_fn, buf);
}

/* Each namespace's table: its own connections, every line exactly. */
TEST_F(two_ns, table_per_namespace)
{
	static char buf[65536];
	size_t len;
	int v, i, lines;

	for (v = 0; v < VIEWS; v++) {
		ASSERT_EQ(0, table_of(v, buf)) TH_LOG("%s", views[v]);
		len = strlen(TABLE_HEADER);
		ASSERT_EQ(0, strncmp(buf, TABLE_HEADER, len)) TH_LOG("%s", buf);
		lines = 0;
		for (char *p = buf + len; *p; p = strchr(p, '\n') + 1)
			lines++;
		EXPECT_EQ(conns_of[v] * (v != V_INIT), lines)
			TH_LOG("namespace \"%s\":\n%s", views[v], buf);
		for (i = 0; i < CONNS; i++) {
			bool here = (v == V_SRV && i < SRV_CONNS + 2) ||
				    (v == V_NS2 && i >= SRV_CONNS + 2);

			EXPECT_EQ(here, !!strstr(buf, self->line[i]))
				TH_LOG("namespace \"%s\": %s in\n%s", views[v],
				       self->line[i], buf);
		}
	}

	/* Closed, they go (once the kernel has freed their sockets). */
	close_conns(self);
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, table_of(V_SRV, buf));
		if (!strcmp(buf, TABLE_HEADER))
			break;
		usleep(20000);
	}
	ASSERT_STREQ(TABLE_HEADER, buf);
}

static int run_fn(void *cmd)
{
	return run(cmd);
}

/* What ss -e shows of the same connections: local, peer and inode. */
TEST_F(two_ns, table_as_ss_shows)
{
	const char *src = getenv("TOA_SRC");	/* the tests' directory differs by architecture */
	char cmd[1024], local[64], proxy[64], client[64];
	unsigned long ino;

	ASSERT_NE(NULL, src);
	for (int i = 0; i < CONNS; i++) {
		ASSERT_EQ(4, sscanf(self->line[i], "%63s %63s %63s %lu", local,
				    proxy, client, &ino));
		snprintf(cmd, sizeof(cmd),
			 "ss -tnHe | awk -v l='%s' -v p='%s' -v i=ino:%lu '$4 == l && $5 == p { for (k = 6; k <= NF; k++) if ($k == i) f = 1 } END { exit !f }'",
			 local, proxy, ino);
		EXPECT_EQ(0, in_netns(i < SRV_CONNS + 2 ? SRV_NS : NS2, run_fn,
				      cmd)) TH_LOG("%s", cmd);
	}
}

/*
 * scripts/toa-ss: the server's line of each connection ends with its client;
 * in toa-ns2 the clients' own sockets are there too, with none.
 */
TEST_F_TIMEOUT(two_ns, toa_ss, 180)	/* a shell, ss and awk for each line */
{
	const char *src = getenv("TOA_SRC");	/* the tests' directory differs by architecture */
	char cmd[1024], local[64], proxy[64], client[64];
	unsigned long ino;

	ASSERT_NE(NULL, src);
	for (int i = 0; i < CONNS; i++) {
		bool ns2 = i >= SRV_CONNS + 2;

		ASSERT_EQ(4, sscanf(self->line[i], "%63s %63s %63s %lu", local,
				    proxy, client, &ino));
		snprintf(cmd, sizeof(cmd),
			 "%s/scripts/toa-ss | awk -v l='%s' -v p='%s' -v c='%s' '{ for (k = 1; k < NF; k++) if ($k == l && $(k + 1) == p && $NF == c) f++ } END { exit f != 1 }'",
			 src, local, proxy, client);
		EXPECT_EQ(0, in_netns(ns2 ? NS2 : SRV_NS, run_fn, cmd))
			TH_LOG("%s", cmd);
		if (!ns2)
			continue;
		snprintf(cmd, sizeof(cmd),
			 "%s/scripts/toa-ss | awk -v l='%s' -v p='%s' '{ for (k = 1; k < NF; k++) if ($k == l && $(k + 1) == p && $NF == \"-\") f++ } END { exit f != 1 }'",
			 src, proxy, local);
		EXPECT_EQ(0, in_netns(NS2, run_fn, cmd)) TH_LOG("%s", cmd);
	}
}

static int open_as_nobody_fn(void *arg)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(2);
		if (open("/proc/net/toa_stats", O_RDONLY) < 0)
			_exit(3);
		_exit(open("/proc/net/toa_table", O_RDONLY) < 0 &&
		      errno == EACCES ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The table names clients and sockets: root's only; the counters are not. */
TEST_F(two_ns, table_root_only)
{
	EXPECT_EQ(0, open_as_nobody_fn(NULL));
	EXPECT_EQ(0, in_netns(NS2, open_as_nobody_fn, NULL));
}

/*
 * Whether @buf is the table of namespace @v while its connections to
 * @local churn: the header, then lines of those connections only.
 */
static bool table_sane(const char *buf, int v, int *lines)
{
	const char *local = v == V_SRV ? SRV4 ":9300 " : LO4 ":9303 ";
	const char *proxy = v == V_SRV ? CLI4 : LO4;
	const char *p = buf + strlen(TABLE_HEADER);

	if (strncmp(buf, TABLE_HEADER, strlen(TABLE_HEADER)))
		return false;
	for (; *p; (*lines)++) {
		const char *end = strchr(p, '\n');
		char rest[160];
		unsigned int port;
		unsigned long ino;
		int n = -1;

		if (!end || end - p >= (long)sizeof(rest) ||
		    strncmp(p, local, strlen(local)))
			return false;
		memcpy(rest, p + strlen(local), end - p - strlen(local));
		rest[end - p - strlen(local)] = 0;
		if (strncmp(rest, proxy, strlen(proxy)) ||
		    sscanf(rest + strlen(proxy), ":%u " TOA_IP4 ":4660 %lu%n",
			   &port, &ino, &n) != 2 ||
		    n != (int)strlen(rest + strlen(proxy)) || !port ||
		    port > 65535)
			return false;
		p = end + 1;
	}
	return true;
}

/*
 * Read again and again while 10 000 connections (churn_count()) open and
 * close, half in each namespace: every read ends, and shows only well-formed
 * lines of its own namespace's connections.
 */
TEST_F_TIMEOUT(two_ns, table_under_churn, 300)
{
	const int churn_conns = churn_count(10000);
	static char buf[65536];
	int done[2], result[2], reads = 0, lines = 0, bad = 0;
	ssize_t n;
	pid_t pid;

	/* The listeners stay; the fixture's connections would be other lines. */
	close_conns(self);
	ASSERT_EQ(0, pipe(done));
	ASSERT_EQ(0, pipe(result));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pollfd pfd = { .fd = done[0], .events = POLLIN };

		close(done[1]);
		while (!poll(&pfd, 1, 0)) {
			int v = reads % 2 ? V_SRV : V_NS2;

			if (table_of(v, buf) || !table_sane(buf, v, &lines)) {
				fprintf(stderr, "# bad table in %s:\n%s",
					views[v], buf);
				bad++;
			}
			reads++;
		}
		dprintf(result[1], "%d %d %d\n", reads, lines, bad);
		_exit(0);
	}
	close(done[0]);
	for (int i = 0; i < churn_conns; i++) {
		bool ns2 = i % 2;
		int c = tcp_connect_in(ns2 ? NS2 : CLI_NS, ns2 ? LO4 : SRV4,
				       ns2 ? PORT2 : PORT);
		int s = accept(self->listener[ns2 ? 3 : 0], NULL, NULL);

		ASSERT_LE(0, c) TH_LOG("connection %d: %m", i);
		ASSERT_LE(0, s);
		close(s);
		close_reset(c);
	}
	close(done[1]);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	close(result[1]);
	n = read(result[0], buf, 100);
	ASSERT_LT(0, n);
	buf[n] = 0;
	ASSERT_EQ(3, sscanf(buf, "%d %d %d", &reads, &lines, &bad));
	TH_LOG("%d connections; %d reads of toa_table showed %d lines",
	       churn_conns, reads, lines);
	EXPECT_EQ(0, bad);
	EXPECT_LT(10, reads);
}

TOA_HARNESS_MAIN
