/*
 * ipmp_watch -- print every RTM_IFINFO an IPMP-aware routing socket receives,
 * so that a test failure (IFF_FAILED), a repair, or an offline shows up as one
 * line:  RTM_IFINFO net0 index 2 flags UP,BROADCAST,MULTICAST,IPV4,FAILED
 *
 * Plain illumos code: build it on illumos with "cc -o ipmp_watch ipmp_watch.c
 * -lsocket -lnsl", or in an ipmp-lab host with "cc -I$RTSOCK_INCLUDE" and run
 * it with LD_PRELOAD=$RTSOCK_PRELOAD (or "rtsock run ./ipmp_watch").
 *
 * Usage: ipmp_watch [-n COUNT]	 (exit after COUNT messages; default: never)
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <net/if.h>
#include <net/if_dl.h>
#include <net/route.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	uint64_t	flag;
	const char	*name;
} flags[] = {
	{ IFF_UP, "UP" }, { IFF_BROADCAST, "BROADCAST" }, { IFF_LOOPBACK, "LOOPBACK" },
	{ IFF_RUNNING, "RUNNING" }, { IFF_NOARP, "NOARP" }, { IFF_MULTICAST, "MULTICAST" },
	{ IFF_DEPRECATED, "DEPRECATED" }, { IFF_IPV4, "IPV4" }, { IFF_IPV6, "IPV6" },
	{ IFF_NOFAILOVER, "NOFAILOVER" }, { IFF_FAILED, "FAILED" }, { IFF_STANDBY, "STANDBY" },
	{ IFF_INACTIVE, "INACTIVE" }, { IFF_OFFLINE, "OFFLINE" },
};

/* The interface name: from the RTA_IFP sockaddr_dl, else from its index. */
static const char *
ifname(const struct if_msghdr *ifm, ssize_t len, char *buf, size_t size)
{
	const struct sockaddr_dl *sdl = (const struct sockaddr_dl *)(ifm + 1);

	if ((ifm->ifm_addrs & RTA_IFP) &&
	    len >= (ssize_t)(sizeof (*ifm) + sizeof (*sdl)) && sdl->sdl_family == AF_LINK &&
	    sdl->sdl_nlen > 0 && sdl->sdl_nlen < size) {
		(void) memcpy(buf, sdl->sdl_data, sdl->sdl_nlen);
		buf[sdl->sdl_nlen] = '\0';
		return (buf);
	}
	if (if_indextoname(ifm->ifm_index, buf) != NULL)
		return (buf);
	(void) snprintf(buf, size, "index%d", ifm->ifm_index);
	return (buf);
}

int
main(int argc, char **argv)
{
	union { struct rt_msghdr rtm; struct if_msghdr ifm; char buf[2048]; } m;
	char name[LIFNAMSIZ];
	int s, c, aware = RTAW_UNDER_IPMP;
	long count = -1;
	ssize_t n;
	size_t i;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c != 'n') {
			(void) fprintf(stderr, "usage: ipmp_watch [-n COUNT]\n");
			return (2);
		}
		count = strtol(optarg, NULL, 10);
	}
	if ((s = socket(PF_ROUTE, SOCK_RAW, 0)) == -1) {
		perror("ipmp_watch: socket(PF_ROUTE)");
		return (1);
	}
	/* See the interfaces under IPMP too: their failures are what matters. */
	if (setsockopt(s, SOL_ROUTE, RT_AWARE, &aware, sizeof (aware)) == -1) {
		perror("ipmp_watch: setsockopt(RT_AWARE)");
		return (1);
	}
	(void) setvbuf(stdout, NULL, _IOLBF, 0);
	(void) printf("watching\n");
	while (count != 0) {
		if ((n = read(s, &m, sizeof (m))) == -1) {
			if (errno == ENOBUFS) {	/* messages were dropped: say so, go on */
				(void) printf("overflow\n");
				continue;
			}
			perror("ipmp_watch: read");
			return (1);
		}
		if (n < (ssize_t)sizeof (m.ifm) || m.rtm.rtm_version != RTM_VERSION ||
		    m.rtm.rtm_type != RTM_IFINFO)
			continue;
		(void) printf("RTM_IFINFO %s index %d flags ",
		    ifname(&m.ifm, n, name, sizeof (name)), m.ifm.ifm_index);
		for (c = 0, i = 0; i < sizeof (flags) / sizeof (flags[0]); i++) {
			if ((uint32_t)m.ifm.ifm_flags & flags[i].flag)
				(void) printf("%s%s", c++ ? "," : "", flags[i].name);
		}
		(void) printf("\n");
		if (count > 0)
			count--;
	}
	(void) close(s);
	return (0);
}
