// SPDX-License-Identifier: GPL-2.0
/*
 * The user guide's verification, as a user runs it: its sample servers and
 * `python3 -m http.server 10000` in the server namespace, a TOA client in
 * the client namespace, and the client address read from what they print.
 */
#include "toa_wire.h"
#include "kselftest_harness.h"

#define GUIDE_PORT	10000

struct server {
	pid_t pid;
	int out;	/* what it prints, stdout and stderr */
};

/* Starts @argv in the server namespace, from /tmp. */
static void server_start(struct server *s, char *const argv[])
{
	int fds[2];

	if (pipe(fds))
		abort();
	s->pid = fork();
	if (!s->pid) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		if (chdir("/tmp"))
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	s->out = fds[0];
}

/* Reads what the server printed until @want shows up or 30 s pass. */
static bool server_said(struct server *s, const char *want, char *buf,
			size_t size)
{
	size_t used = strlen(buf);
	struct pollfd p = { .fd = s->out, .events = POLLIN };
	time_t end = time(NULL) + 30;

	while (!strstr(buf, want) && time(NULL) < end && used < size - 1) {
		ssize_t n;

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = read(s->out, buf + used, size - 1 - used);
		if (n <= 0)
			break;
		used += n;
		buf[used] = 0;
	}
	return strstr(buf, want);
}

static void server_stop(struct server *s)
{
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	close(s->out);
}

/*
 * Connects once the server listens; it starts in its own time (python3
 * takes over 10 s on 5.10, whose 9p root is slow).
 */
static int connect_when_up(const char *ip)
{
	for (int i = 0; i < 300; i++) {
		int fd = tcp_connect(ip, GUIDE_PORT);

		if (fd >= 0)
			return fd;
		usleep(100000);
	}
	return -1;
}

static void toa_next(const char *ip)
{
	uint8_t opt[40];

	client_opt(opt, toa_opt(opt, 254, ip, TOA_PORT), true, true);
}

FIXTURE(sample_server) {
	struct server s;
	char out[4096];
};

FIXTURE_VARIANT(sample_server) {
	const char *program;
	const char *connect_ip;
	const char *toa_ip;
	const char *says[2];
};

FIXTURE_VARIANT_ADD(sample_server, v4_listener_v4_client) {
	.program = "guide_server_v4", .connect_ip = SRV4, .toa_ip = TOA_IP4,
	.says = { "AF_INET accept getpeername 192.0.2.7 : 4660 successful" },
};

FIXTURE_VARIANT_ADD(sample_server, v4_listener_v6_client) {
	.program = "guide_server_v4", .connect_ip = SRV4, .toa_ip = TOA_IP6,
	.says = { "AF_INET6 accept getpeername 2001:db8::7 : 4660 successful" },
};

FIXTURE_VARIANT_ADD(sample_server, v6_listener_v4_client) {
	.program = "guide_server_v6", .connect_ip = SRV4, .toa_ip = TOA_IP4,
	.says = { "accept ::ffff:192.0.2.7 : 4660 successful",
		  "connect 192.0.2.7 successful" },
};

FIXTURE_VARIANT_ADD(sample_server, v6_listener_v6_client) {
	.program = "guide_server_v6", .connect_ip = SRV6, .toa_ip = TOA_IP6,
	.says = { "accept 2001:db8::7 : 4660 successful" },
};

FIXTURE_SETUP(sample_server)
{
	char path[512];
	char *argv[] = { "ip", "netns", "exec", SRV_NS, path, NULL };

	snprintf(path, sizeof(path), "%s/%s", getenv("TOA_TEST_OUT") ?: ".",
		 variant->program);
	self->out[0] = 0;
	toa_next(variant->toa_ip);
	server_start(&self->s, argv);
}

FIXTURE_TEARDOWN(sample_server)
{
	server_stop(&self->s);
}

TEST_F_TIMEOUT(sample_server, prints_client, 120)
{
	int fd = connect_when_up(variant->connect_ip);

	ASSERT_LE(0, fd);
	for (int i = 0; i < 2 && variant->says[i]; i++)
		ASSERT_TRUE(server_said(&self->s, variant->says[i], self->out,
					sizeof(self->out)))
			TH_LOG("server said: %s", self->out);
	close(fd);
}

FIXTURE(http_server) {
	struct server s;
	char out[8192];
};

FIXTURE_VARIANT(http_server) {
	const char *bind;	/* as the guide says, or for an IPv6 origin */
	const char *connect_ip;
	const char *toa_ip;
	const char *logs;
};

FIXTURE_VARIANT_ADD(http_server, v4_origin) {
	.connect_ip = SRV4, .toa_ip = TOA_IP4, .logs = "192.0.2.7 - - [",
};

FIXTURE_VARIANT_ADD(http_server, v6_origin) {
	.bind = "::", .connect_ip = SRV6, .toa_ip = TOA_IP6,
	.logs = "2001:db8::7 - - [",
};

FIXTURE_SETUP(http_server)
{
	char *argv[] = { "ip", "netns", "exec", SRV_NS, "python3", "-m",
			 "http.server", "10000", NULL, NULL, NULL };

	if (variant->bind) {
		argv[8] = "--bind";
		argv[9] = (char *)variant->bind;
	}

	self->out[0] = 0;
	toa_next(variant->toa_ip);
	server_start(&self->s, argv);
}

FIXTURE_TEARDOWN(http_server)
{
	server_stop(&self->s);
}

TEST_F_TIMEOUT(http_server, logs_client, 120)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	char reply[64] = "";
	int fd = connect_when_up(variant->connect_ip);

	ASSERT_LE(0, fd);
	ASSERT_EQ(sizeof(req) - 1, write(fd, req, sizeof(req) - 1));
	ASSERT_LT(12, read(fd, reply, sizeof(reply) - 1));
	ASSERT_EQ(0, strncmp(reply, "HTTP/1.0 200", 12)) TH_LOG("%s", reply);
	close(fd);
	ASSERT_TRUE(server_said(&self->s, variant->logs, self->out,
				sizeof(self->out)))
		TH_LOG("server logged: %s", self->out);
}

TEST_HARNESS_MAIN
