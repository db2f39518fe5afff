// SPDX-License-Identifier: GPL-2.0
/*
 * The user guide's verification, as a user runs it: its sample servers,
 * `python3 -m http.server 10000` and Debian's nginx in the server namespace,
 * a TOA client in the client namespace, and the client address read from
 * what they print or log.
 */
#include "toa_wire.h"
#include "kselftest_harness.h"
#include <sys/stat.h>

#define GUIDE_PORT	10000
#define NGINX_PORT	80

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
static int connect_when_up(const char *ip, int port)
{
	for (int i = 0; i < 300; i++) {
		int fd = tcp_connect(ip, port);

		if (fd >= 0)
			return fd;
		usleep(100000);
	}
	return -1;
}

/* The client's next connections carry @ip; an IPv4 socket answers @mode. */
static int toa_next(const char *ip, const char *mode)
{
	uint8_t opt[40];

	client_opt(opt, toa_opt(opt, 254, ip, TOA_PORT), true, true);
	return toa_param_set("ipv6_on_ipv4", mode ?: "sockaddr_in6");
}

/* An HTTP/1.0 GET on @fd: the first line of the reply, "" if none. */
static const char *http_get(int fd, char *reply, size_t size)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	ssize_t n = 0;

	reply[0] = 0;
	if (write(fd, req, sizeof(req) - 1) == sizeof(req) - 1)
		n = read(fd, reply, size - 1);
	reply[n > 0 ? n : 0] = 0;
	reply[strcspn(reply, "\r\n")] = 0;
	return reply;
}

FIXTURE(sample_server) {
	struct server s;
	char out[4096];
};

FIXTURE_VARIANT(sample_server) {
	const char *program;
	const char *connect_ip;
	const char *toa_ip;
	const char *ipv6_on_ipv4;	/* the parameter; NULL: the default */
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

FIXTURE_VARIANT_ADD(sample_server, v4_listener_v6_client_proxy) {
	.program = "guide_server_v4", .connect_ip = SRV4, .toa_ip = TOA_IP6,
	.ipv6_on_ipv4 = "proxy",
	.says = { "AF_INET accept getpeername " CLI4 " : " },
};

FIXTURE_VARIANT_ADD(sample_server, v6_listener_v4_client) {
	.program = "guide_server_v6", .connect_ip = SRV4, .toa_ip = TOA_IP4,
	.says = { "accept ::ffff:192.0.2.7 : 4660 successful",
		  "connect 192.0.2.7 successful" },
};

FIXTURE_VARIANT_ADD(sample_server, dual_stack_listener_v6_client) {
	.program = "guide_server_v6", .connect_ip = SRV4, .toa_ip = TOA_IP6,
	.says = { "accept 2001:db8::7 : 4660 successful" },
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
	ASSERT_EQ(0, toa_next(variant->toa_ip, variant->ipv6_on_ipv4));
	server_start(&self->s, argv);
}

FIXTURE_TEARDOWN(sample_server)
{
	server_stop(&self->s);
	toa_param_set("ipv6_on_ipv4", "sockaddr_in6");
}

TEST_F_TIMEOUT(sample_server, prints_client, 120)
{
	int fd = connect_when_up(variant->connect_ip, GUIDE_PORT);

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
	const char *ipv6_on_ipv4;	/* the parameter; NULL: the default */
	const char *logs;
	const char *not_logs;
};

FIXTURE_VARIANT_ADD(http_server, v4_origin) {
	.connect_ip = SRV4, .toa_ip = TOA_IP4, .logs = "192.0.2.7 - - [",
};

/*
 * Python's accept() on an IPv4 socket has room for a sockaddr_in (16 bytes):
 * the kernel cuts the sockaddr_in6 there, and Python reads the rest of the
 * address from its own buffer. Only the first 8 bytes are the client's.
 */
FIXTURE_VARIANT_ADD(http_server, v4_origin_v6_client_truncated) {
	.connect_ip = SRV4, .toa_ip = TOA_IP6, .logs = "2001:db8::",
	.not_logs = "2001:db8::7 - - [",
};

FIXTURE_VARIANT_ADD(http_server, v4_origin_v6_client_proxy) {
	.connect_ip = SRV4, .toa_ip = TOA_IP6, .ipv6_on_ipv4 = "proxy",
	.logs = CLI4 " - - [",
};

FIXTURE_VARIANT_ADD(http_server, dual_stack_origin_v4_client) {
	.bind = "::", .connect_ip = SRV4, .toa_ip = TOA_IP4,
	.logs = "::ffff:192.0.2.7 - - [",
};

FIXTURE_VARIANT_ADD(http_server, dual_stack_origin_v6_client) {
	.bind = "::", .connect_ip = SRV4, .toa_ip = TOA_IP6,
	.logs = "2001:db8::7 - - [",
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
	ASSERT_EQ(0, toa_next(variant->toa_ip, variant->ipv6_on_ipv4));
	server_start(&self->s, argv);
}

FIXTURE_TEARDOWN(http_server)
{
	server_stop(&self->s);
	toa_param_set("ipv6_on_ipv4", "sockaddr_in6");
}

TEST_F_TIMEOUT(http_server, logs_client, 120)
{
	char reply[64];
	int fd = connect_when_up(variant->connect_ip, GUIDE_PORT);

	ASSERT_LE(0, fd);
	ASSERT_STREQ("HTTP/1.0 200 OK", http_get(fd, reply, sizeof(reply)));
	close(fd);
	ASSERT_TRUE(server_said(&self->s, variant->logs, self->out,
				sizeof(self->out)))
		TH_LOG("server logged: %s", self->out);
	if (variant->not_logs)
		ASSERT_EQ(NULL, strstr(self->out, variant->not_logs))
			TH_LOG("server logged: %s", self->out);
}

/*
 * Debian's nginx as most configure it, on a config of our own in a directory
 * of its own, logging "$remote_addr $remote_port" for each request.
 */
FIXTURE(nginx) {
	struct server s;
	char dir[32];
	char out[4096];
};

FIXTURE_VARIANT(nginx) {
	const char *listen;
	const char *connect_ip;
	const char *toa_ip;
	const char *ipv6_on_ipv4;	/* the parameter; NULL: the default */
	const char *logs;	/* NULL: the client port from the proxy */
	bool dropped;		/* closed without a reply or a log line */
};

FIXTURE_VARIANT_ADD(nginx, v4_listener_v4_toa) {
	.listen = "80", .connect_ip = SRV4, .toa_ip = TOA_IP4,
	.logs = "192.0.2.7 4660",
};

FIXTURE_VARIANT_ADD(nginx, v6_listener_v6_toa) {
	.listen = "[::]:80", .connect_ip = SRV6, .toa_ip = TOA_IP6,
	.logs = "2001:db8::7 4660",
};

FIXTURE_VARIANT_ADD(nginx, dual_stack_listener_v4_toa) {
	.listen = "[::]:80 ipv6only=off", .connect_ip = SRV4, .toa_ip = TOA_IP4,
	.logs = "::ffff:192.0.2.7 4660",
};

FIXTURE_VARIANT_ADD(nginx, dual_stack_listener_v6_toa) {
	.listen = "[::]:80 ipv6only=off", .connect_ip = SRV4, .toa_ip = TOA_IP6,
	.logs = "2001:db8::7 4660",
};

/*
 * The pitfall: nginx formats an IPv4 listener's client addresses into room
 * for IPv4 text, fails on the sockaddr_in6 and closes the connection.
 */
FIXTURE_VARIANT_ADD(nginx, v4_listener_v6_toa) {
	.listen = "80", .connect_ip = SRV4, .toa_ip = TOA_IP6, .dropped = true,
};

FIXTURE_VARIANT_ADD(nginx, v4_listener_v6_toa_proxy) {
	.listen = "80", .connect_ip = SRV4, .toa_ip = TOA_IP6,
	.ipv6_on_ipv4 = "proxy",
};

FIXTURE_SETUP(nginx)
{
	char conf[2048], path[64];
	char *argv[] = { "ip", "netns", "exec", SRV_NS, "nginx", "-p", self->dir,
			 "-c", "nginx.conf", "-e", "error.log",
			 "-g", "daemon off;", NULL };
	FILE *f;

	ASSERT_EQ(0, access("/usr/sbin/nginx", X_OK))
		TH_LOG("no nginx: install Debian's nginx (test/check.sh does)");
	strcpy(self->dir, "/tmp/toa-nginx.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(conf, sizeof(conf),
		 "user root;\n"
		 "worker_processes 1;\n"
		 "pid nginx.pid;\n"
		 "error_log error.log;\n"
		 "events { worker_connections 64; }\n"
		 "http {\n"
		 "  log_format client '$remote_addr $remote_port';\n"
		 "  access_log access.log client;\n"
		 "  client_body_temp_path tmp/body;\n"
		 "  proxy_temp_path tmp/proxy;\n"
		 "  fastcgi_temp_path tmp/fastcgi;\n"
		 "  uwsgi_temp_path tmp/uwsgi;\n"
		 "  scgi_temp_path tmp/scgi;\n"
		 "  server {\n"
		 "    listen %s;\n"
		 "    location / { return 200 \"ok\\n\"; }\n"
		 "  }\n"
		 "}\n", variant->listen);
	snprintf(path, sizeof(path), "%s/nginx.conf", self->dir);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fputs(conf, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/tmp", self->dir);
	ASSERT_EQ(0, mkdir(path, 0700));

	self->out[0] = 0;
	ASSERT_EQ(0, toa_next(variant->toa_ip, variant->ipv6_on_ipv4));
	server_start(&self->s, argv);
}

FIXTURE_TEARDOWN(nginx)
{
	char cmd[64];

	server_stop(&self->s);
	toa_param_set("ipv6_on_ipv4", "sockaddr_in6");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	run(cmd);
}

/* The access log once it holds a line, or what it holds after 10 s. */
static void nginx_log(const char *dir, char *buf, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/access.log", dir);
	for (int i = 0; i < 100; i++) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, size - 1, f) : 0;

		if (f)
			fclose(f);
		buf[n] = 0;
		if (strchr(buf, '\n'))
			return;
		usleep(100000);
	}
}

TEST_F_TIMEOUT(nginx, logs_client, 120)
{
	long long before[TOA_STAT_COUNT], after[TOA_STAT_COUNT];
	char want[80], reply[64], log[256];
	int fd;

	ASSERT_EQ(0, stats_read(before));
	fd = connect_when_up(variant->connect_ip, NGINX_PORT);
	if (fd < 0)
		server_said(&self->s, "\n", self->out, sizeof(self->out));
	ASSERT_LE(0, fd) TH_LOG("nginx is not listening: %s", self->out);
	if (variant->logs)
		snprintf(want, sizeof(want), "%s\n", variant->logs);
	else
		snprintf(want, sizeof(want), "%s %d\n", CLI4, client_port(fd));
	http_get(fd, reply, sizeof(reply));
	close(fd);

	if (variant->dropped) {
		ASSERT_STREQ("", reply) TH_LOG("nginx served the client");
		ASSERT_EQ(0, stats_read(after));
		ASSERT_EQ(1, after[TOA_STAT_GETNAME_TOA_MISMATCH] -
			     before[TOA_STAT_GETNAME_TOA_MISMATCH]);
		/* nginx lives on, and only the next client shows in its log. */
		ASSERT_EQ(0, toa_next(TOA_IP4, variant->ipv6_on_ipv4));
		fd = tcp_connect(variant->connect_ip, NGINX_PORT);
		ASSERT_LE(0, fd);
		http_get(fd, reply, sizeof(reply));
		close(fd);
		snprintf(want, sizeof(want), "%s %d\n", TOA_IP4, TOA_PORT);
	}
	ASSERT_STREQ("HTTP/1.1 200 OK", reply);
	nginx_log(self->dir, log, sizeof(log));
	ASSERT_STREQ(want, log);
}

TOA_HARNESS_MAIN
