// SPDX-License-Identifier: GPL-2.0
/*
 * The user guide's "Listen on IPv4 addresses" sample server, as our users
 * run it: an IPv4 listener that accepts into a sockaddr_in6 and prints the
 * client by sin6_family. Only what the guide's text lost is restored.
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
	struct sockaddr_in serveraddr;
	struct sockaddr_in6 clientAddr;
	int server_port = 10000;

	memset(&serveraddr, 0, sizeof(serveraddr));
	l_sockfd = socket(AF_INET, SOCK_STREAM, 0);
	if (l_sockfd == -1) {
		printf("Failed to create socket.\n");
		return -1;
	}
	memset(&serveraddr, 0, sizeof(struct sockaddr_in));
	serveraddr.sin_family = AF_INET;
	serveraddr.sin_port = htons(server_port);
	serveraddr.sin_addr.s_addr = htonl(INADDR_ANY);

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
	if (clientAddr.sin6_family == AF_INET) {
		printf("AF_INET accept getpeername %s : %d successful\n",
		       inet_ntoa(((struct sockaddr_in *)&clientAddr)->sin_addr),
		       ntohs(((struct sockaddr_in *)&clientAddr)->sin_port));
	} else if (clientAddr.sin6_family == AF_INET6) {
		char addr_p[128] = {0};

		inet_ntop(AF_INET6,
			  (void *)&((struct sockaddr_in6 *)&clientAddr)->sin6_addr,
			  addr_p, (socklen_t)sizeof(addr_p));
		printf("AF_INET6 accept getpeername %s : %d successful\n",
		       addr_p,
		       ntohs(((struct sockaddr_in6 *)&clientAddr)->sin6_port));
	} else {
		printf("unknow sin_family:%d\n", clientAddr.sin6_family);
	}
	return 0;
}
