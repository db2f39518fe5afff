// SPDX-License-Identifier: GPL-2.0
/*
 * What toa costs, seen from user space in the guest (bench/guest.sh runs it
 * in the namespaces and cgroup that test/netns.sh makes):
 *
 *   toa_bench wire toa|none            the option the client's next SYNs carry
 *   toa_bench rate SECONDS PEER        connections per second (the median of
 *                                      RATE_SLICES slices of SECONDS)
 *   toa_bench getname CALLS PEER       nanoseconds per getpeername() call, and
 *                                      per getsockname() call (the fastest of
 *                                      GETNAME_CHUNKS runs of CALLS/GETNAME_CHUNKS)
 *   toa_bench hold N1,N2,... PEER CMD SRC...
 *                                      holds N1, then N2, ... connections open
 *                                      (from the client addresses SRC), running
 *                                      CMD at each with OPEN=N in its environment
 *   toa_bench count OP N PEER          nanoseconds per operation, one operation
 *                                      after the other in one process: under
 *                                      QEMU's -icount shift=0, guest
 *                                      instructions (bench/count.sh)
 *
 * PEER is the address the server must see: "toa" (the proxy's claim) or
 * "client" (the real one). Any other answer fails the run, so that a result
 * cannot be filed under the wrong setup.
 */
#include "toa_wire.h"
#include <netinet/ip.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define RATE_PORT	9100
#define GETNAME_PORT	9101
#define HOLD_PORT	9102
#define COUNT_PORT	9103
#define INIT_NS		"toa-init"
/*
 * Sockets a getname count goes round: where a socket's address puts it in
 * toa's table (alone in its bucket or not) varies from run to run.
 */
#define COUNT_SOCKETS	16

/* Two of each keep both vCPUs busy: the handshake runs in connect(). */
#define RATE_CLIENTS	2
#define RATE_SERVERS	2
#define RATE_WARMUP_US	500000
#define RATE_SLICES	12
#define GETNAME_CHUNKS	20

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static in_addr_t peer_wanted(const char *peer)
{
	if (!strcmp(peer, "toa"))
		return inet_addr(TOA_IP4);
	if (!strcmp(peer, "client"))
		return inet_addr(CLI4);
	if (!strcmp(peer, "loopback"))
		return htonl(INADDR_LOOPBACK);
	fprintf(stderr, "peer must be toa, client or loopback, not %s\n", peer);
	exit(2);
}

/* Whether getpeername() on @fd says the IPv4 address @want, any port. */
static bool peer_ip_is(int fd, in_addr_t want)
{
	union addr a;
	socklen_t len = sizeof(a);

	return !getpeername(fd, &a.sa, &len) && a.sa.sa_family == AF_INET &&
	       a.sin.sin_addr.s_addr == want;
}

static void raise_fd_limit(long n)
{
	struct rlimit r = { n, n };

	if (setrlimit(RLIMIT_NOFILE, &r))
		die("RLIMIT_NOFILE");
}

static int cmd_wire(const char *what)
{
	uint8_t opt[40] = { 0 };

	if (!strcmp(what, "toa"))
		client_opt(opt, toa_opt(opt, 254, TOA_IP4, TOA_PORT), true,
			   true);
	else
		client_opt(opt, 0, false, false);
	return 0;
}

/* One cache line per worker: the counters must not slow each other. */
struct rate_slot {
	long count;
	long errors;
	char pad[48];
};

struct rate {
	atomic_bool stop_clients, stop_servers;	/* shared with the children */
	int listener;
	in_addr_t want;
	struct rate_slot client[RATE_CLIENTS], server[RATE_SERVERS];
};

struct rate_client {
	struct rate *r;
	struct rate_slot *slot;
};

/* Connect, wait for the server's close, reset: a whole short connection. */
static int rate_client(void *arg)
{
	struct rate_client *c = arg;
	struct rate *r = c->r;
	struct rate_slot *slot = c->slot;
	union addr srv;
	socklen_t len = addr_make(&srv, SRV4, RATE_PORT);
	char byte;

	while (!atomic_load(&r->stop_clients)) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, &srv.sa, len) ||
		    read(fd, &byte, 1)) {
			slot->errors++;
			if (fd >= 0)
				close(fd);
			continue;
		}
		close_reset(fd);
		slot->count++;
	}
	return 0;
}

static void rate_server(struct rate *r, struct rate_slot *slot)
{
	while (!atomic_load(&r->stop_servers)) {
		int fd = accept(r->listener, NULL, NULL);

		if (fd < 0)
			continue;	/* SO_RCVTIMEO: time to look at stop */
		if (!peer_ip_is(fd, r->want))
			slot->errors++;
		close(fd);
		slot->count++;
	}
}

static long rate_sum(const struct rate_slot *slot, int n)
{
	long sum = 0;

	for (int i = 0; i < n; i++)
		sum += slot[i].count;
	return sum;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmd_rate(double seconds, const char *peer)
{
	struct timeval tv = { 0, 100000 };
	pid_t clients[RATE_CLIENTS], servers[RATE_SERVERS];
	long count0, count1, errors = 0;
	double t0, t1, slice[RATE_SLICES];
	struct rate *r;
	int i;

	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		die("mmap");
	r->want = peer_wanted(peer);
	r->listener = tcp_listen(AF_INET, SRV4, RATE_PORT, false);
	if (r->listener < 0)
		die("listen");
	setsockopt(r->listener, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	for (i = 0; i < RATE_SERVERS; i++) {
		servers[i] = fork();
		if (!servers[i]) {
			rate_server(r, &r->server[i]);
			_exit(0);
		}
	}
	for (i = 0; i < RATE_CLIENTS; i++) {
		struct rate_client c = { r, &r->client[i] };

		clients[i] = fork();
		if (!clients[i])
			_exit(in_netns(CLI_NS, rate_client, &c));
	}

	usleep(RATE_WARMUP_US);
	t0 = now();
	count0 = rate_sum(r->client, RATE_CLIENTS);
	for (i = 0; i < RATE_SLICES; i++) {
		usleep(seconds * 1e6 / RATE_SLICES);
		count1 = rate_sum(r->client, RATE_CLIENTS);
		t1 = now();
		slice[i] = (count1 - count0) / (t1 - t0);
		count0 = count1;
		t0 = t1;
	}

	/* Clients first: a server must be there for each one's last connection. */
	atomic_store(&r->stop_clients, true);
	for (i = 0; i < RATE_CLIENTS; i++)
		waitpid(clients[i], NULL, 0);
	atomic_store(&r->stop_servers, true);
	for (i = 0; i < RATE_SERVERS; i++)
		waitpid(servers[i], NULL, 0);
	close(r->listener);

	for (i = 0; i < RATE_CLIENTS; i++)
		errors += r->client[i].errors;
	for (i = 0; i < RATE_SERVERS; i++)
		errors += r->server[i].errors;
	if (errors || !count1) {
		fprintf(stderr, "rate: %ld connections, %ld failed or saw another peer than %s\n",
			rate_sum(r->server, RATE_SERVERS), errors, peer);
		return 1;
	}
	/* The median slice: a stall of the emulated machine spoils only some. */
	qsort(slice, RATE_SLICES, sizeof(*slice), cmp_double);
	printf("%.1f\n", (slice[(RATE_SLICES - 1) / 2] + slice[RATE_SLICES / 2]) / 2);
	return 0;
}

/*
 * ns per getpeername() (or getsockname()) on @fd: the fastest of
 * GETNAME_CHUNKS runs of calls/GETNAME_CHUNKS calls, after one to warm up.
 * The emulated machine stalls now and then, which only ever adds time.
 */
static double time_calls(int fd, long calls, bool peer)
{
	long chunk = calls / GETNAME_CHUNKS, i;
	double best = 0;
	union addr a;
	socklen_t len;

	for (int c = -1; c < GETNAME_CHUNKS; c++) {
		double t0 = now(), ns;

		for (i = 0; i < chunk; i++) {
			len = sizeof(a);
			if (peer)
				getpeername(fd, &a.sa, &len);
			else
				getsockname(fd, &a.sa, &len);
		}
		ns = (now() - t0) * 1e9 / chunk;
		if (c >= 0 && (!best || ns < best))
			best = ns;
	}
	return best;
}

/*
 * getpeername() is what toa answers; getsockname() goes through the same
 * hook (inet_getname), which leaves at once: the cost of the hook alone.
 */
static int cmd_getname(long calls, const char *peer)
{
	int listener, client, server;
	double peer_ns, sock_ns;

	listener = tcp_listen(AF_INET, SRV4, GETNAME_PORT, false);
	client = tcp_connect(SRV4, GETNAME_PORT);
	server = listener < 0 || client < 0 ? -1 : accept(listener, NULL, NULL);
	if (server < 0)
		die("connection");
	if (!peer_ip_is(server, peer_wanted(peer))) {
		fprintf(stderr, "getname: the peer is not %s\n", peer);
		return 1;
	}
	peer_ns = time_calls(server, calls, true);
	sock_ns = time_calls(server, calls, false);
	printf("%.1f %.1f\n", peer_ns, sock_ns);

	close(server);
	close_reset(client);
	close(listener);
	return 0;
}

struct hold_client {
	int ctl;		/* the next total to reach, from the parent */
	int nsrc;
	char **src;
};

/*
 * Opens connections until there are as many as the parent asks for, round
 * robin over the source addresses, each with the whole ephemeral range.
 */
static int hold_client(void *arg)
{
	struct hold_client *h = arg;
	struct linger l = { 1, 0 };
	int one = 1;
	long open = 0, target;
	union addr srv, src;
	socklen_t len = addr_make(&srv, SRV4, HOLD_PORT);

	while (read(h->ctl, &target, sizeof(target)) == sizeof(target)) {
		for (; open < target; open++) {
			int fd = socket(AF_INET, SOCK_STREAM, 0);

			addr_make(&src, h->src[open % h->nsrc], 0);
			/* The port is chosen at connect(), per destination. */
			if (fd < 0 ||
			    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
				       &one, sizeof(one)) ||
			    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l,
				       sizeof(l)) ||
			    bind(fd, &src.sa, sizeof(src.sin)) ||
			    connect(fd, &srv.sa, len)) {
				fprintf(stderr, "hold: connection %ld: %m\n",
					open + 1);
				return 1;
			}
		}
	}
	return 0;	/* exiting resets them all */
}

static int cmd_hold(char *levels, const char *peer, const char *cmd,
		    int nsrc, char **src)
{
	struct timeval tv = { 1, 0 };
	struct hold_client h = { .nsrc = nsrc, .src = src };
	in_addr_t want = peer_wanted(peer);
	long target[16], max = 0, open = 0;
	int i, n = 0, ctl[2], listener, status = 0;
	char env[32];
	int *fds;
	pid_t pid;

	/* Without TOA, the first connection comes from the first address. */
	if (want != inet_addr(TOA_IP4))
		want = inet_addr(src[0]);
	for (char *l = strtok(levels, ","); l && n < 16; l = strtok(NULL, ",")) {
		target[n] = atol(l);
		max = target[n] > max ? target[n] : max;
		n++;
	}
	raise_fd_limit(max + 64);
	fds = calloc(max + 1, sizeof(*fds));
	listener = tcp_listen(AF_INET, SRV4, HOLD_PORT, false);
	if (!fds || listener < 0 || pipe(ctl))
		die("hold");
	setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	pid = fork();
	if (!pid) {
		close(ctl[1]);
		close(listener);
		h.ctl = ctl[0];
		_exit(in_netns(CLI_NS, hold_client, &h));
	}
	close(ctl[0]);

	for (i = 0; i < n && !status; i++) {
		if (write(ctl[1], &target[i], sizeof(target[i])) !=
		    sizeof(target[i]))
			die("hold: control pipe");
		while (open < target[i]) {
			int fd = accept(listener, NULL, NULL);

			if (fd < 0) {
				if (waitpid(pid, NULL, WNOHANG) == pid) {
					fprintf(stderr, "hold: the client gave up at %ld\n",
						open);
					return 1;
				}
				continue;
			}
			/* All carry the same option: the first one tells. */
			if (!open && !peer_ip_is(fd, want)) {
				fprintf(stderr, "hold: the peer is not %s\n", peer);
				return 1;
			}
			fds[open++] = fd;
			if (open % 100000 == 0)
				fprintf(stderr, "hold: %ld open\n", open);
		}
		snprintf(env, sizeof(env), "%ld", open);
		setenv("OPEN", env, 1);
		status = run(cmd);
	}

	close(ctl[1]);
	waitpid(pid, NULL, 0);
	while (open)
		close(fds[--open]);
	close(listener);
	return status;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: toa_bench wire toa|none\n"
		"       toa_bench rate SECONDS toa|client\n"
		"       toa_bench getname CALLS toa|client\n"
		"       toa_bench hold N1,N2,... toa|client CMD SRC...\n"
		"       toa_bench count conn|getpeer|getpeer-busy|getsock|getpeer-init|syn N toa|client|loopback\n");
	exit(2);
}

/*
 * The operations of "count", each run @n times in a row by one process: with
 * one vCPU, its instructions, the kernel's included, are the only ones that
 * run but for the timer's. Client sockets are made in the namespace the
 * function runs in (the listener keeps its own).
 */
struct count {
	long n;
	int listener;
	in_addr_t want;
	const char *ip;	/* the listener's */
	bool bad;
};

/* An accepted connection, handshake to close; the server asks for its peer. */
static int count_conn(void *arg)
{
	struct count *c = arg;
	union addr srv;
	socklen_t len = addr_make(&srv, c->ip, COUNT_PORT);

	for (long i = 0; i < c->n; i++) {
		int client = socket(AF_INET, SOCK_STREAM, 0), server;

		if (client < 0 || connect(client, &srv.sa, len))
			die("count conn: connect");
		server = accept(c->listener, NULL, NULL);
		if (server < 0)
			die("count conn: accept");
		c->bad |= !peer_ip_is(server, c->want);
		close(server);
		close_reset(client);
	}
	return 0;
}

/* A connection that stays open until the process ends. */
static int count_connect(void *arg)
{
	struct count *c = arg;
	union addr srv;

	return connect(socket(AF_INET, SOCK_STREAM, 0), &srv.sa,
		       addr_make(&srv, c->ip, COUNT_PORT)) ? -1 : 0;
}

static uint16_t csum_fold_add(uint32_t sum, const void *data, size_t len)
{
	const uint16_t *w = data;

	for (; len > 1; len -= 2)
		sum += *w++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/*
 * SYNs that never complete, from a raw socket: the listener answers each, the
 * client's kernel resets the answer. What toa costs a server under a flood.
 */
static int count_syn(void *arg)
{
	struct count *c = arg;
	struct {
		struct in_addr src, dst;
		uint8_t zero, proto;
		uint16_t len;
		struct tcphdr th;
	} pkt = {
		.proto = IPPROTO_TCP, .len = htons(sizeof(struct tcphdr)),
		.th = { .dest = htons(COUNT_PORT), .doff = 5, .syn = 1,
			.window = htons(65535) },
	};
	union addr dst;
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);

	addr_make(&dst, c->ip, 0);
	inet_pton(AF_INET, CLI4, &pkt.src);
	pkt.dst = dst.sin.sin_addr;
	if (fd < 0)
		die("count syn: raw socket");
	for (long i = 0; i < c->n; i++) {
		pkt.th.source = htons(20000 + i % 40000);
		pkt.th.seq = htonl(i);
		pkt.th.check = 0;
		pkt.th.check = ~csum_fold_add(0, &pkt, sizeof(pkt));
		if (sendto(fd, &pkt.th, sizeof(pkt.th), 0, &dst.sa,
			   sizeof(dst.sin)) != sizeof(pkt.th))
			die("count syn: sendto");
	}
	close(fd);
	return 0;
}

/*
 * OP: conn (the connection from the client namespace), getpeer, getsock (on
 * accepted ones), getpeer-busy (getpeer without TOA while TOA connections
 * are open), getpeer-init (on ones over loopback in the initial namespace,
 * whose counters are the host's only: bench/count.sh names it INIT_NS) or
 * syn. Prints ns per OP.
 */
static int cmd_count(const char *op, long n, const char *peer)
{
	bool init = !strcmp(op, "getpeer-init");
	bool busy = !strcmp(op, "getpeer-busy");
	struct count c = { .n = n, .want = peer_wanted(peer),
			   .ip = init ? "127.0.0.1" : SRV4 };
	int server[COUNT_SOCKETS], nserver = 0;
	double t0, t1;

	c.listener = tcp_listen_in(init ? INIT_NS : SRV_NS, AF_INET, c.ip,
				   COUNT_PORT, false);
	if (c.listener < 0)
		die("count: listen");
	/* TOA connections open beside the measured ones, which have none. */
	if (busy) {
		cmd_wire("toa");
		for (int i = 0; i < COUNT_SOCKETS; i++)
			if (in_netns(CLI_NS, count_connect, &c) ||
			    accept(c.listener, NULL, NULL) < 0)
				die("count: the TOA connections");
		cmd_wire("none");
	}
	if (!strcmp(op, "getpeer") || !strcmp(op, "getsock") || init || busy)
		for (; nserver < COUNT_SOCKETS; nserver++) {
			if (init ? count_connect(&c) :
				   in_netns(CLI_NS, count_connect, &c))
				die("count: connect");
			server[nserver] = accept(c.listener, NULL, NULL);
			if (server[nserver] < 0 ||
			    !peer_ip_is(server[nserver], c.want)) {
				fprintf(stderr, "count: the peer is not %s\n",
					peer);
				return 1;
			}
		}

	t0 = now();
	if (!strcmp(op, "conn"))
		in_netns(CLI_NS, count_conn, &c);
	else if (!strcmp(op, "syn"))
		in_netns(CLI_NS, count_syn, &c);
	else if (nserver)
		for (long i = 0; i < n; i++) {
			int fd = server[i % COUNT_SOCKETS];
			union addr a;
			socklen_t len = sizeof(a);

			if (strcmp(op, "getsock"))
				getpeername(fd, &a.sa, &len);
			else
				getsockname(fd, &a.sa, &len);
		}
	else
		usage();
	t1 = now();
	if (c.bad) {
		fprintf(stderr, "count: a peer was not %s\n", peer);
		return 1;
	}
	printf("%.1f\n", (t1 - t0) * 1e9 / n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "wire"))
		return cmd_wire(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "rate"))
		return cmd_rate(atof(argv[2]), argv[3]);
	if (argc == 4 && !strcmp(argv[1], "getname"))
		return cmd_getname(atol(argv[2]), argv[3]);
	if (argc == 5 && !strcmp(argv[1], "count"))
		return cmd_count(argv[2], atol(argv[3]), argv[4]);
	if (argc >= 6 && !strcmp(argv[1], "hold"))
		return cmd_hold(argv[2], argv[3], argv[4], argc - 5, argv + 5);
	usage();
}
