/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the tests need around the module: sockets in the client and server
 * namespaces that test/guest.sh made, the option sender (toa_client.bpf.c),
 * a capture that shows what really crossed the wire, and the counters.
 */
#ifndef TOA_WIRE_H
#define TOA_WIRE_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <regex.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "toa_client.h"
#include "../toa_uapi.h"

#define CLI_NS	"toa-cli"
#define SRV_NS	"toa-srv"
#define SRV_IF	"srv0"
#define CLI4	"10.88.0.1"
#define SRV4	"10.88.0.2"
#define CLI6	"fd88::1"
#define SRV6	"fd88::2"

/* What the "proxy" claims: documentation addresses, never routed. */
#define TOA_IP4		"192.0.2.7"
#define TOA_IP6		"2001:db8::7"
#define TOA_PORT	4660

#define STAT_NAME(id, name)	name,
static const char * const stat_names[TOA_STAT_COUNT] = {
	TOA_STATS(STAT_NAME)
};

#undef STAT_NAME

/* Runs @fn in namespace @ns and comes back; sockets keep their namespace. */
static inline int in_netns(const char *ns, int (*fn)(void *), void *arg)
{
	char path[64];
	int self, target, ret;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	self = open("/proc/self/ns/net", O_RDONLY);
	target = open(path, O_RDONLY);
	if (self < 0 || target < 0 || setns(target, CLONE_NEWNET)) {
		perror(path);
		exit(1);
	}
	ret = fn(arg);
	if (setns(self, CLONE_NEWNET))
		exit(1);
	close(self);
	close(target);
	return ret;
}

struct sock_req {
	int family;
	int type;
	int protocol;
};

static inline int socket_fn(void *arg)
{
	struct sock_req *r = arg;

	return socket(r->family, r->type, r->protocol);
}

static inline int socket_in(const char *ns, int family, int type,
			    int protocol)
{
	struct sock_req r = { family, type, protocol };

	return in_netns(ns, socket_fn, &r);
}

/* Any address, v4 or v6, as a sockaddr. */
union addr {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_storage ss;
};

static inline socklen_t addr_make(union addr *a, const char *ip, int port)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, ip, &a->sin.sin_addr) == 1) {
		a->sin.sin_family = AF_INET;
		a->sin.sin_port = htons(port);
		return sizeof(a->sin);
	}
	if (inet_pton(AF_INET6, ip, &a->sin6.sin6_addr) != 1)
		abort();
	a->sin6.sin6_family = AF_INET6;
	a->sin6.sin6_port = htons(port);
	return sizeof(a->sin6);
}

/* "ip port" of a sockaddr, for comparing and for messages. */
static inline const char *addr_str(const union addr *a, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (a->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a->sin.sin_addr, ip, sizeof(ip));
		port = ntohs(a->sin.sin_port);
	} else if (a->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &a->sin6.sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6.sin6_port);
	}
	snprintf(buf, size, "%s %d", ip, port);
	return buf;
}

static inline int tcp_listen_in(const char *ns, int family, const char *ip,
				int port, bool v6only)
{
	int fd = socket_in(ns, family, SOCK_STREAM, 0);
	int one = 1, v6 = v6only;
	union addr a;
	socklen_t len = addr_make(&a, ip, port);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6, sizeof(v6));
	if (bind(fd, &a.sa, len) || listen(fd, 4096)) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline int tcp_listen(int family, const char *ip, int port, bool v6only)
{
	return tcp_listen_in(SRV_NS, family, ip, port, v6only);
}

/* A connection from namespace @ns, from source @src if not NULL. */
static inline int tcp_connect_in_from(const char *ns, const char *src,
				      const char *ip, int port)
{
	union addr a, s;
	socklen_t len = addr_make(&a, ip, port);
	int fd = socket_in(ns, a.sa.sa_family, SOCK_STREAM, 0);

	if (fd >= 0 && src && bind(fd, &s.sa, addr_make(&s, src, 0))) {
		close(fd);
		return -1;
	}
	if (fd >= 0 && connect(fd, &a.sa, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline int tcp_connect(const char *ip, int port)
{
	return tcp_connect_in_from(CLI_NS, NULL, ip, port);
}

static inline int tcp_connect_in(const char *ns, const char *ip, int port)
{
	return tcp_connect_in_from(ns, NULL, ip, port);
}

/* A connection from the client namespace, from source @src. */
static inline int tcp_connect_from(const char *src, const char *ip, int port)
{
	return tcp_connect_in_from(CLI_NS, src, ip, port);
}

/* The option the client's next connections carry (len 0: none). */
static inline void client_opt(const void *bytes, int len, bool on_syn, bool on_ack)
{
	struct toa_client_opt opt = {
		.len = len, .on_syn = on_syn, .on_ack = on_ack,
	};
	union bpf_attr attr;
	__u32 key = 0;
	int map;

	memcpy(opt.bytes, bytes, len);
	memset(&attr, 0, sizeof(attr));
	attr.pathname = (unsigned long)TOA_CLIENT_MAP;
	map = syscall(__NR_bpf, BPF_OBJ_GET, &attr, sizeof(attr));
	if (map < 0) {
		perror(TOA_CLIENT_MAP);
		exit(1);
	}
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = map;
	attr.key = (unsigned long)&key;
	attr.value = (unsigned long)&opt;
	if (syscall(__NR_bpf, BPF_MAP_UPDATE_ELEM, &attr, sizeof(attr))) {
		perror("bpf map update");
		exit(1);
	}
	close(map);
}

/* Closes with a reset: no TIME_WAIT to run out of ports with. */
static inline void close_reset(int fd)
{
	struct linger l = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* What getpeername() on @fd says, as "ip port", or "" if it fails. */
static inline const char *peer_str(int fd, char *buf, size_t size)
{
	union addr a;
	socklen_t len = sizeof(a);

	if (getpeername(fd, &a.sa, &len))
		return "";
	return addr_str(&a, buf, size);
}

/* Whether getpeername() on @fd says @ip and @port. */
static inline bool peer_is(int fd, const char *ip, int port)
{
	char want[80], got[80];

	snprintf(want, sizeof(want), "%s %d", ip, port);
	return !strcmp(want, peer_str(fd, got, sizeof(got)));
}

/* The local port of @fd. */
static inline int client_port(int fd)
{
	union addr a;
	socklen_t len = sizeof(a);

	getsockname(fd, &a.sa, &len);
	return ntohs(a.sin.sin_port);
}

/* A TOA option: kind, length, port, then the IPv4 or IPv6 address. */
static inline int toa_opt(uint8_t *buf, int kind, const char *ip, int port)
{
	int len = strchr(ip, ':') ? TOA_OPT_LEN_IP6 : TOA_OPT_LEN_IP4;

	buf[0] = kind;
	buf[1] = len;
	buf[2] = port >> 8;
	buf[3] = port & 0xff;
	if (inet_pton(len == TOA_OPT_LEN_IP4 ? AF_INET : AF_INET6, ip,
		      buf + 4) != 1)
		abort();
	return len;
}

/* Every connection of the client from now on carries TOA_IP4:TOA_PORT. */
static inline void toa_everywhere(void)
{
	uint8_t opt[40];

	client_opt(opt, toa_opt(opt, 254, TOA_IP4, TOA_PORT), true, true);
}

/* Client segments toward @port seen on the server's interface. */
struct capture {
	int fd;
	int port;
	uint8_t syn_opts[40], ack_opts[40];
	int syn_len, ack_len;	/* -1: no such segment seen */
};

static inline int capture_fn(void *arg)
{
	struct sockaddr_ll ll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = if_nametoindex(SRV_IF),
	};
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));

	if (fd >= 0 && bind(fd, (struct sockaddr *)&ll, sizeof(ll))) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline void capture_start(struct capture *c, int port)
{
	memset(c, 0, sizeof(*c));
	c->port = port;
	c->fd = in_netns(SRV_NS, capture_fn, NULL);
	if (c->fd < 0) {
		perror("capture");
		exit(1);
	}
}

/* Takes the first SYN and the first non-SYN segment's options. */
static inline void capture_end(struct capture *c)
{
	uint8_t pkt[2048];
	ssize_t n;

	c->syn_len = c->ack_len = -1;
	while ((n = recv(c->fd, pkt, sizeof(pkt), MSG_DONTWAIT)) > 0) {
		uint16_t proto = pkt[12] << 8 | pkt[13];
		uint8_t *l3 = pkt + 14, *th;
		int doff, optlen;

		if (proto == ETH_P_IP && l3[9] == IPPROTO_TCP)
			th = l3 + (l3[0] & 15) * 4;
		else if (proto == ETH_P_IPV6 && l3[6] == IPPROTO_TCP)
			th = l3 + 40;
		else
			continue;
		if ((th[2] << 8 | th[3]) != c->port)
			continue;
		doff = (th[12] >> 4) * 4;
		optlen = doff - 20;
		if (optlen < 0 || th + doff > pkt + n)
			continue;
		if ((th[13] & 0x02) && c->syn_len < 0) {
			memcpy(c->syn_opts, th + 20, optlen);
			c->syn_len = optlen;
		} else if (!(th[13] & 0x02) && c->ack_len < 0) {
			memcpy(c->ack_opts, th + 20, optlen);
			c->ack_len = optlen;
		}
	}
	close(c->fd);
	c->fd = -1;
}

/* Whether option area @opts holds the option @opt as a whole option. */
static inline bool opts_have(const uint8_t *opts, int len, const uint8_t *opt)
{
	int i = 0;

	while (i < len && opts[i] != 0) {
		if (opts[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || opts[i + 1] < 2)
			return false;
		if (opts[i + 1] == opt[1] && !memcmp(opts + i, opt, opt[1]))
			return true;
		i += opts[i + 1];
	}
	return false;
}

/* The counters of /proc/net/toa_stats, summed over the CPUs. */
static inline int stats_read(long long *stats)
{
	char line[1024];
	FILE *f = fopen("/proc/net/toa_stats", "r");
	int found = 0;

	if (!f)
		return -1;
	memset(stats, 0, sizeof(*stats) * TOA_STAT_COUNT);
	while (fgets(line, sizeof(line), f)) {
		for (int i = 0; i < TOA_STAT_COUNT; i++) {
			size_t l = strlen(stat_names[i]);
			char *p = line + l + 1;

			if (strncmp(line, stat_names[i], l) || line[l] != ':')
				continue;
			for (;;) {
				char *end;
				long long v = strtoll(p, &end, 10);

				if (end == p)
					break;
				stats[i] += v;
				p = end;
			}
			found++;
		}
	}
	fclose(f);
	return found == TOA_STAT_COUNT ? 0 : -1;
}

static inline int stats_read_fn(void *stats)
{
	return stats_read(stats);
}

/* The counters as namespace @ns shows them. */
static inline int stats_read_in(const char *ns, long long *stats)
{
	return in_netns(ns, stats_read_fn, stats);
}

/* Reads the counters once closed sockets are freed (alloc == free). */
static inline void stats_after_close(long long *stats)
{
	long long prev[TOA_STAT_COUNT];

	stats_read(stats);
	for (int i = 0; i < 100; i++) {
		memcpy(prev, stats, sizeof(prev));
		usleep(20000);
		stats_read(stats);
		if (!memcmp(prev, stats, sizeof(prev)) &&
		    stats[TOA_STAT_IP6_ADDRESS_ALLOC] == stats[TOA_STAT_IP6_ADDRESS_FREE])
			return;
	}
}

/*
 * How many times slower than usual this kernel runs the tests: TOA_SLOWDOWN,
 * set where the kernel is (check.sh: the debug suite), or 1.
 */
static inline int slowdown(void)
{
	const char *by = getenv("TOA_SLOWDOWN");

	return by && atoi(by) > 1 ? atoi(by) : 1;
}

/*
 * @n connections for a test that churns them, fewer where the kernel is slow,
 * so that the test still churns and ends within its time limit.
 */
static inline int churn_count(int n)
{
	return n / slowdown();
}

/*
 * TEST_HARNESS_MAIN, with each test's time limit multiplied by slowdown():
 * a limit catches a test that hangs, and must not fail one that is only slow.
 * (The harness arms its alarm in its own process, before the test runs, so
 * the limits are set before the first one.)
 */
#define TOA_HARNESS_MAIN						\
	static void __attribute__((constructor))			\
	__constructor_order_last(void)					\
	{								\
		if (!__constructor_order)				\
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	}								\
	int main(int argc, char **argv)					\
	{								\
		struct __fixture_metadata *f;				\
		struct __test_metadata *t;				\
									\
		for (f = __fixture_list; f; f = f->next)		\
			for (t = f->tests; t; t = t->next)		\
				t->timeout *= slowdown();		\
		return test_harness_run(argc, argv);			\
	}

/*
 * Reads the kernel log (/dev/kmsg) and returns its last record's sequence
 * number; *@found is set if a record after @since matches @re.
 */
static inline unsigned long long kmsg_read(unsigned long long since,
					   const regex_t *re, bool *found)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	unsigned long long seq, last = 0;
	char rec[8192], *text;
	ssize_t n;

	while (fd >= 0 && ((n = read(fd, rec, sizeof(rec) - 1)) > 0 ||
			   (n < 0 && errno == EPIPE))) {	/* overwritten: read on */
		if (n < 0)
			continue;
		rec[n] = 0;
		text = strchr(rec, ';');
		if (!text || sscanf(rec, "%*u,%llu", &seq) != 1)
			continue;
		last = seq;
		text[strcspn(text, "\n")] = 0;
		if (re && seq > since && !regexec(re, text + 1, 0, NULL, 0))
			*found = true;
	}
	if (fd >= 0)
		close(fd);
	return last;
}

/*
 * Where the kernel log is now: kmsg_said(since, regex) looks only at what was
 * logged after it. (Not "dmesg | tail": a slow or debug kernel logs lines of
 * its own in between.)
 */
static inline unsigned long long kmsg_now(void)
{
	return kmsg_read(0, NULL, NULL);
}

/* True if a line logged after @since matches @regex (a basic one, as grep's). */
static inline bool kmsg_said(unsigned long long since, const char *regex)
{
	bool found = false;
	regex_t re;

	if (regcomp(&re, regex, REG_NOSUB))
		return false;
	kmsg_read(since, &re, &found);
	regfree(&re);
	return found;
}

static inline int run(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* (Re)loads the module under test with @params; "" for the defaults. */
static inline int toa_reload(const char *params)
{
	char cmd[1024];
	const char *ko = getenv("TOA_KO");

	if (!ko)
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "(rmmod toa 2>/dev/null; insmod %s %s) >/dev/null 2>&1",
		 ko, params);
	return run(cmd);
}

/* Writes module parameter @name at run time: 0, or the errno of the write. */
static inline int toa_param_set(const char *name, const char *value)
{
	char path[128];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/sys/module/toa/parameters/%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	if (write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		err = errno;
	close(fd);
	return err;
}

#endif /* TOA_WIRE_H */
