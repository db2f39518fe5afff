// SPDX-License-Identifier: GPL-2.0
/*
 * The user guide's "Listen on IPv6 addresses" sample server: a dual-stack
 * listener that prints the client and, for an IPv4-mapped address, the IPv4
 * address inside it. Only what the guide's text lost is restored.
 */
#include <sys/socket.h>
#include <stdio.h>
#include <unistd.h>
#include <netinet/in.h>
#include <memory.h>
#include <arpa/inet.h>

int main(int argc, char **argv)
{
	int l_sockfd;
	struct sockaddr_in6 serveraddr;
	struct sockaddr_in6 clientAddr;
	int server_port = 10000;

	memset(&serveraddr, 0, sizeof(serveraddr));
	l_sockfd = socket(AF_INET6, SOCK_STREAM, 0);
	if (l_sockfd == -1) {
		printf("Failed to create socket.\n");
		return -1;
	}
	memset(&serveraddr, 0, sizeof(struct sockaddr_in6));
	serveraddr.sin6_family = AF_INET6;
	serveraddr.sin6_port = htons(server_port);
	serveraddr.sin6_addr = in6addr_any;

	int isReuse = 1;

	setsockopt(l_sockfd, SOL_SOCKET, SO_REUSEADDR, (const char *)&isReuse,
		   sizeof(isReuse));
	int nRet = bind(l_sockfd, (struct sockaddr *)&serveraddr,
			sizeof(serveraddr));
	if (-1 == nRet) {
		printf("bind error\n");
		return -1;
	}
	listen(l_sockfd, 5);

	socklen_t clientAddrLen = sizeof(clientAddr);

	memset(&clientAddr, 0, sizeof(clientAddr));
	int linkFd = accept(l_sockfd, (struct sockaddr *)&clientAddr,
			    &clientAddrLen);
	if (-1 == linkFd) {
		printf("accept error\n");
		return -1;
	}
	char addr_p[128] = {0};

	inet_ntop(AF_INET6, (void *)&clientAddr.sin6_addr, addr_p,
		  (socklen_t)sizeof(addr_p));
	printf("accept %s : %d successful\n", addr_p,
	       ntohs(clientAddr.sin6_port));
	if (IN6_IS_ADDR_V4MAPPED(&clientAddr.sin6_addr)) {
		struct sockaddr_in real_v4_sin;

		memset(&real_v4_sin, 0, sizeof(struct sockaddr_in));
		real_v4_sin.sin_family = AF_INET;
		real_v4_sin.sin_port = clientAddr.sin6_port;
		memcpy(&real_v4_sin.sin_addr,
		       ((char *)&clientAddr.sin6_addr) + 12, 4);
		printf("connect %s successful\n",
		       inet_ntoa(real_v4_sin.sin_addr));
	}
	return 0;
}
