// SPDX-License-Identifier: GPL-2.0
/*
 * insmod and rmmod in a loop while a client opens and closes TOA
 * connections: every connection gets the TOA address or, while toa is
 * unloaded, the client's; nothing is leaked; the guest's dmesg is checked
 * for any oops or warning afterwards (test/check.sh).
 *
 * test/check.sh runs this in a guest of its own under single-threaded TCG:
 * with one host thread per vCPU, QEMU can run a stale translation of kernel
 * text that ftrace re-patched on another vCPU, and the guest hangs at the
 * entry of a traced function. A module with empty ftrace callbacks and no
 * toa code hangs the same way (README.md, Reliability).
 */
#include "toa_wire.h"
#include <pthread.h>
#include <stdatomic.h>
#include "kselftest_harness.h"

#define PORT		9091
#define CYCLES		50

struct churn {
	int listener;
	atomic_bool stop;	/* set by the test, read by its threads */
	long conns, toa, plain, bad;
	char first_bad[320];
};

/*
 * Connect, accept, look, close; whatever toa's state, never a crash. One
 * getpeername() a connection: two could straddle a load and see both answers.
 */
static void *churn_loop(void *arg)
{
	struct churn *c = arg;

	while (!atomic_load(&c->stop)) {
		int client = tcp_connect(SRV4, PORT);
		int server = client < 0 ? -1 : accept(c->listener, NULL, NULL);
		char peer[80], toa[80], plain[80];

		if (server >= 0) {
			snprintf(toa, sizeof(toa), "%s %d", TOA_IP4, TOA_PORT);
			snprintf(plain, sizeof(plain), "%s %d", CLI4,
				 client_port(client));
			peer_str(server, peer, sizeof(peer));
			if (!strcmp(peer, toa)) {
				c->toa++;
			} else if (!strcmp(peer, plain)) {
				c->plain++;
			} else if (!c->bad++) {
				snprintf(c->first_bad, sizeof(c->first_bad),
					 "'%s', not '%s' or '%s'", peer, toa,
					 plain);
			}
			close(server);
		}
		if (client >= 0)
			close_reset(client);
		c->conns++;
	}
	return NULL;
}

/* A fixture only for its timeout, in seconds: TCG is slow. */
FIXTURE(loop) {
};

FIXTURE_SETUP(loop)
{
}

FIXTURE_TEARDOWN(loop)
{
}

TEST_F_TIMEOUT(loop, load_unload_under_churn, 900)
{
	static struct churn c;
	long long stats[TOA_STAT_COUNT];
	pthread_t thread;

	toa_everywhere();
	c.listener = tcp_listen(AF_INET, SRV4, PORT, false);
	ASSERT_LE(0, c.listener);
	ASSERT_EQ(0, pthread_create(&thread, NULL, churn_loop, &c));
	for (int i = 0; i < CYCLES; i++) {
		ASSERT_EQ(0, toa_reload(""));
		usleep(50000);
		ASSERT_EQ(0, run("rmmod toa"));
		usleep(20000);
	}
	ASSERT_EQ(0, toa_reload(""));
	usleep(200000);
	atomic_store(&c.stop, true);
	pthread_join(thread, NULL);
	close(c.listener);
	TH_LOG("%d cycles, %ld connections: %ld with TOA, %ld without",
	       CYCLES, c.conns, c.toa, c.plain);
	ASSERT_EQ(0, c.bad) TH_LOG("first wrong answer: %s", c.first_bad);
	ASSERT_LT(0, c.toa);
	stats_after_close(stats);
	ASSERT_EQ(stats[TOA_STAT_IP6_ADDRESS_ALLOC], stats[TOA_STAT_IP6_ADDRESS_FREE]);
}


TOA_HARNESS_MAIN
