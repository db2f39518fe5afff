// SPDX-License-Identifier: GPL-2.0
/*
 * toa on a busy server: unloading under open connections and traffic,
 * getpeername racing resets, churn, and a TOA socket handed to a BPF sockmap
 * (loading and unloading in a loop: toa_load_loop_test.c). The guest's dmesg is checked for any
 * oops or warning afterwards (test/check.sh).
 */
#include "toa_wire.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include "kselftest_harness.h"

#define PORT	9090

/* Long runs under an emulated CPU: timeouts per test, in seconds. */
FIXTURE(busy) {
};

FIXTURE_SETUP(busy)
{
}

FIXTURE_TEARDOWN(busy)
{
}

static void raise_fd_limit(void)
{
	struct rlimit r = { 1 << 18, 1 << 18 };

	setrlimit(RLIMIT_NOFILE, &r);
}

static bool echo(int client, int server)
{
	char c = 'x';

	return write(client, &c, 1) == 1 && read(server, &c, 1) == 1 &&
	       write(server, &c, 1) == 1 && read(client, &c, 1) == 1;
}

#define OPEN_CONNS	4000
#define BUSY_CONNS	64

struct pairs {
	int client[OPEN_CONNS], server[OPEN_CONNS];
	atomic_bool stop;	/* set by the test, read by its threads */
	long echoes, echo_failures;
};

static void *traffic(void *arg)
{
	struct pairs *p = arg;

	while (!atomic_load(&p->stop))
		for (int i = 0; i < BUSY_CONNS; i++) {
			if (echo(p->client[i], p->server[i]))
				p->echoes++;
			else
				p->echo_failures++;
		}
	return NULL;
}

/*
 * rmmod under thousands of open TOA connections, some busy: they keep
 * working and from then on show the proxy's address, as without toa.
 */
TEST_F_TIMEOUT(busy, rmmod_with_open_connections, 300)
{
	static struct pairs p;
	pthread_t thread;
	int listener, i;

	raise_fd_limit();
	toa_everywhere();
	ASSERT_EQ(0, toa_reload(""));
	listener = tcp_listen(AF_INET, SRV4, PORT, false);
	ASSERT_LE(0, listener);
	for (i = 0; i < OPEN_CONNS; i++) {
		p.client[i] = tcp_connect(SRV4, PORT);
		ASSERT_LE(0, p.client[i]) TH_LOG("connection %d: %m", i);
		p.server[i] = accept(listener, NULL, NULL);
		ASSERT_LE(0, p.server[i]);
		ASSERT_TRUE(peer_is(p.server[i], TOA_IP4, TOA_PORT));
	}

	ASSERT_EQ(0, pthread_create(&thread, NULL, traffic, &p));
	usleep(200000);
	ASSERT_EQ(0, run("rmmod toa"));
	usleep(200000);
	atomic_store(&p.stop, true);
	pthread_join(thread, NULL);
	TH_LOG("%d connections open at rmmod, %ld echoes around it",
	       OPEN_CONNS, p.echoes);
	ASSERT_EQ(0, p.echo_failures);
	ASSERT_LT(0, p.echoes);

	for (i = 0; i < OPEN_CONNS; i++) {
		ASSERT_TRUE(echo(p.client[i], p.server[i]));
		ASSERT_TRUE(peer_is(p.server[i], CLI4, client_port(p.client[i])));
	}
	for (i = 0; i < OPEN_CONNS; i++) {
		close(p.server[i]);
		close_reset(p.client[i]);
	}
	close(listener);

	/* Loaded again, it works as before. */
	ASSERT_EQ(0, toa_reload(""));
	listener = tcp_listen(AF_INET, SRV4, PORT, false);
	i = tcp_connect(SRV4, PORT);
	p.server[0] = accept(listener, NULL, NULL);
	ASSERT_TRUE(peer_is(p.server[0], TOA_IP4, TOA_PORT));
	close(p.server[0]);
	close_reset(i);
	close(listener);
}

#define RACE_SECONDS	5

struct race {
	int listener;
	atomic_bool stop;	/* set by the test, read by its threads */
	long accepted, toa, notconn, bad;
	pthread_mutex_t lock;
};

/* Peers that close or reset right after connecting. */
static void *race_client(void *arg)
{
	struct race *r = arg;
	unsigned int seed = pthread_self();

	while (!atomic_load(&r->stop)) {
		int fd = tcp_connect(SRV4, PORT);

		if (fd < 0)
			continue;
		if (rand_r(&seed) & 1)
			close_reset(fd);
		else
			close(fd);
	}
	return NULL;
}

/* Servers that keep asking who the peer is while it goes away. */
static void *race_server(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->stop)) {
		union addr a;
		socklen_t len = sizeof(a);
		int fd = accept(r->listener, &a.sa, &len);
		long toa = 0, notconn = 0, bad = 0;

		if (fd < 0)
			continue;
		for (int i = 0; i < 20; i++) {
			len = sizeof(a);
			if (!getpeername(fd, &a.sa, &len) &&
			    a.sin.sin_addr.s_addr == inet_addr(TOA_IP4))
				toa++;
			else if (errno == ENOTCONN)
				notconn++;
			else
				bad++;
		}
		close(fd);
		pthread_mutex_lock(&r->lock);
		r->accepted++;
		r->toa += toa;
		r->notconn += notconn;
		r->bad += bad;
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

TEST_F_TIMEOUT(busy, getpeername_races_resets, 120)
{
	static struct race r = { .lock = PTHREAD_MUTEX_INITIALIZER };
	long long stats[TOA_STAT_COUNT];
	pthread_t threads[6];
	struct timeval tv = { 0, 100000 };
	int i;

	toa_everywhere();
	ASSERT_EQ(0, toa_reload(""));
	r.listener = tcp_listen(AF_INET, SRV4, PORT, false);
	ASSERT_LE(0, r.listener);
	setsockopt(r.listener, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, pthread_create(&threads[i], NULL,
					    i < 3 ? race_client : race_server,
					    &r));
	sleep(RACE_SECONDS);
	atomic_store(&r.stop, true);
	for (i = 0; i < 6; i++)
		pthread_join(threads[i], NULL);
	close(r.listener);
	TH_LOG("%ld accepted, getpeername: %ld TOA, %ld ENOTCONN, %ld other",
	       r.accepted, r.toa, r.notconn, r.bad);
	ASSERT_EQ(0, r.bad);
	ASSERT_LT(0, r.toa);
	stats_after_close(stats);
	ASSERT_EQ(stats[TOA_STAT_IP6_ADDRESS_ALLOC], stats[TOA_STAT_IP6_ADDRESS_FREE]);
}

/*
 * Active objects of toa's record caches, toa_sock4 and toa_sock6 (the guest
 * boots slab_nomerge), or -1 if they are not there.
 */
static long toa_sock_objects(void)
{
	char line[512], name[64];
	long active, sum = 0;
	int found = 0;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", name, &active) == 2 &&
		    (!strcmp(name, "toa_sock4") ||
		     !strcmp(name, "toa_sock6"))) {
			sum += active;
			found++;
		}
	fclose(f);
	return found == 2 ? sum : -1;
}

static long meminfo_kb(const char *key)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			sscanf(line + strlen(key), ": %ld", &kb);
	if (f)
		fclose(f);
	return kb;
}

/*
 * 100k TOA connections opened and closed: every record comes back. Fewer
 * where the kernel is slow (churn_count()).
 */
TEST_F_TIMEOUT(busy, churn_100k, 900)
{
	const int churn_conns = churn_count(100000);
	long long before[TOA_STAT_COUNT], after[TOA_STAT_COUNT];
	long slab_before, slab_after, objs_before, objs_after, objs_peak = 0;
	time_t start;
	int listener, i;

	toa_everywhere();
	ASSERT_EQ(0, toa_reload(""));
	run("echo 3 > /proc/sys/vm/drop_caches");
	stats_after_close(before);
	slab_before = meminfo_kb("Slab");
	objs_before = toa_sock_objects();
	ASSERT_LE(0, objs_before) TH_LOG("no toa_sock4/6 in /proc/slabinfo");

	listener = tcp_listen(AF_INET, SRV4, PORT, false);
	ASSERT_LE(0, listener);
	start = time(NULL);
	for (i = 0; i < churn_conns; i++) {
		int client = tcp_connect(SRV4, PORT);
		int server = accept(listener, NULL, NULL);

		ASSERT_LE(0, client) TH_LOG("connection %d: %m", i);
		ASSERT_LE(0, server);
		if (i % 10000 == 0) {
			long objs = toa_sock_objects();

			objs_peak = objs > objs_peak ? objs : objs_peak;
		}
		close(server);
		close_reset(client);
	}
	close(listener);

	stats_after_close(after);
	for (i = 0; i < 100 && toa_sock_objects() > objs_before; i++)
		usleep(50000);	/* the last sockets end in RCU callbacks */
	run("echo 3 > /proc/sys/vm/drop_caches");
	objs_after = toa_sock_objects();
	slab_after = meminfo_kb("Slab");
	TH_LOG("%d connections in %ld s; toa_sock objects %ld before, %ld peak, %ld after; Slab %ld kB before, %ld kB after",
	       churn_conns, (long)(time(NULL) - start), objs_before, objs_peak,
	       objs_after, slab_before, slab_after);
	ASSERT_EQ(churn_conns,
		  after[TOA_STAT_SYN_RECV_SOCK_TOA] - before[TOA_STAT_SYN_RECV_SOCK_TOA]);
	ASSERT_EQ(churn_conns,
		  after[TOA_STAT_IP6_ADDRESS_ALLOC] - before[TOA_STAT_IP6_ADDRESS_ALLOC]);
	ASSERT_EQ(churn_conns,
		  after[TOA_STAT_IP6_ADDRESS_FREE] - before[TOA_STAT_IP6_ADDRESS_FREE]);
	/*
	 * SLUB counts free objects parked in per-CPU slabs as active, so
	 * a few slabs may stay; a leak would leave one a connection.
	 */
	ASSERT_GT(1000, objs_after);
}

static int bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* Another user of the socket (a sockmap) takes it with toa untouched. */
TEST(sockmap_takes_toa_socket)
{
	union bpf_attr attr;
	int listener, client, server, map;
	__u32 key = 0, value;

	toa_everywhere();
	ASSERT_EQ(0, toa_reload(""));
	listener = tcp_listen(AF_INET, SRV4, PORT, false);
	client = tcp_connect(SRV4, PORT);
	server = accept(listener, NULL, NULL);
	ASSERT_LE(0, server);

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_SOCKMAP;
	attr.key_size = sizeof(key);
	attr.value_size = sizeof(value);
	attr.max_entries = 1;
	map = bpf(BPF_MAP_CREATE, &attr);
	if (map < 0)
		SKIP(goto out, "no sockmap in this kernel: %m");

	value = server;
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = map;
	attr.key = (unsigned long)&key;
	attr.value = (unsigned long)&value;
	ASSERT_EQ(0, bpf(BPF_MAP_UPDATE_ELEM, &attr)) TH_LOG("sockmap: %m");
	ASSERT_TRUE(peer_is(server, TOA_IP4, TOA_PORT));
	ASSERT_TRUE(echo(client, server));
	attr.value = 0;
	ASSERT_EQ(0, bpf(BPF_MAP_DELETE_ELEM, &attr)) TH_LOG("delete: %m");
	ASSERT_TRUE(peer_is(server, TOA_IP4, TOA_PORT));
	close(map);
out:
	close(server);
	close_reset(client);
	close(listener);
}

TOA_HARNESS_MAIN
