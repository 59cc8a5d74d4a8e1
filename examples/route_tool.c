/*
 * route_tool -- add, delete or look up one IPv4 route through a routing socket,
 * and tell the route(4P) errors apart by errno as illumos reports them:
 *
 *   route_tool add DST/PLEN GATEWAY [IFNAME]   EEXIST: already there
 *   route_tool delete DST/PLEN GATEWAY         ESRCH: no such route
 *   route_tool get DST                         ESRCH: no route to DST
 *
 * Prints one line; exit 0 on success, 3 for EEXIST, 4 for ESRCH, 1 otherwise.
 * Plain illumos code (see ipmp_watch.c for how it is built in ipmp-lab).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_dl.h>
#include <net/route.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct request {
	struct rt_msghdr	rtm;
	char			addrs[512];
};

static char *
put(char *p, const void *sa, size_t len)
{
	(void) memcpy(p, sa, len);
	return (p + len);
}

static void
set_sin(struct sockaddr_in *s, struct in_addr a)
{
	(void) memset(s, 0, sizeof (*s));
	s->sin_family = AF_INET;
	s->sin_addr = a;
}

static int
parse(const char *text, struct in_addr *addr, struct in_addr *mask)
{
	char buf[64], *slash;
	long plen = 32;

	(void) snprintf(buf, sizeof (buf), "%s", text);
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash = '\0';
		plen = strtol(slash + 1, NULL, 10);
	}
	if (inet_pton(AF_INET, buf, addr) != 1 || plen < 0 || plen > 32) {
		(void) fprintf(stderr, "route_tool: %s: not an IPv4 address[/plen]\n", text);
		return (-1);
	}
	mask->s_addr = htonl(plen == 0 ? 0 : 0xffffffffu << (32 - plen));
	return (0);
}

/* The reply's gateway and interface (RTM_GET): walk the sockaddrs in RTA_ order. */
static void
show(const struct rt_msghdr *rtm, ssize_t len)
{
	const char *p = (const char *)(rtm + 1), *end = (const char *)rtm + len;
	char gw[INET_ADDRSTRLEN] = "-", ifp[LIFNAMSIZ] = "-";
	int bit;

	for (bit = 1; bit < (1 << RTA_NUMBITS) && p < end; bit <<= 1) {
		const struct sockaddr *sa = (const struct sockaddr *)p;
		size_t size;

		if (!(rtm->rtm_addrs & bit))
			continue;
		size = sa->sa_family == AF_LINK ? sizeof (struct sockaddr_dl) :
		    sizeof (struct sockaddr_in);
		if (bit == RTA_GATEWAY && sa->sa_family == AF_INET)
			(void) inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			    gw, sizeof (gw));
		if (bit == RTA_IFP && sa->sa_family == AF_LINK) {
			const struct sockaddr_dl *sdl = (const struct sockaddr_dl *)sa;

			(void) snprintf(ifp, sizeof (ifp), "%.*s", sdl->sdl_nlen, sdl->sdl_data);
		}
		p += size;
	}
	(void) printf("gateway %s interface %s\n", gw, ifp);
}

int
main(int argc, char **argv)
{
	struct request req;
	union { struct rt_msghdr rtm; char buf[2048]; } reply;
	struct sockaddr_in s;
	struct sockaddr_dl sdl;
	struct in_addr dst, mask, gw;
	int fd, type, seq = 4242;
	char *p;
	ssize_t n;

	if (argc < 3 || (strcmp(argv[1], "get") == 0 ? argc != 3 :
	    strcmp(argv[1], "add") == 0 ? argc != 4 && argc != 5 :
	    strcmp(argv[1], "delete") == 0 ? argc != 4 : 1)) {
		(void) fprintf(stderr, "usage: route_tool add DST/PLEN GATEWAY [IFNAME] | "
		    "delete DST/PLEN GATEWAY | get DST\n");
		return (2);
	}
	type = argv[1][0] == 'a' ? RTM_ADD : argv[1][0] == 'd' ? RTM_DELETE : RTM_GET;
	if (parse(argv[2], &dst, &mask) == -1 ||
	    (argc > 3 && parse(argv[3], &gw, &(struct in_addr){ 0 }) == -1))
		return (2);

	(void) memset(&req, 0, sizeof (req));
	req.rtm.rtm_version = RTM_VERSION;
	req.rtm.rtm_type = type;
	req.rtm.rtm_seq = seq;
	req.rtm.rtm_flags = RTF_UP | RTF_STATIC | (type == RTM_GET ? RTF_HOST : RTF_GATEWAY);
	p = req.addrs;
	set_sin(&s, dst);
	p = put(p, &s, sizeof (s));
	req.rtm.rtm_addrs = RTA_DST;
	if (type != RTM_GET) {
		set_sin(&s, gw);
		p = put(p, &s, sizeof (s));
		set_sin(&s, mask);
		p = put(p, &s, sizeof (s));
		req.rtm.rtm_addrs |= RTA_GATEWAY | RTA_NETMASK;
	}
	if (type == RTM_GET || argc == 5) {	/* ask for, or name, the interface */
		(void) memset(&sdl, 0, sizeof (sdl));
		sdl.sdl_family = AF_LINK;
		if (argc == 5 && (sdl.sdl_index = if_nametoindex(argv[4])) == 0) {
			(void) fprintf(stderr, "route_tool: %s: no such interface\n", argv[4]);
			return (1);
		}
		p = put(p, &sdl, sizeof (sdl));
		req.rtm.rtm_addrs |= RTA_IFP;
	}
	req.rtm.rtm_msglen = p - (char *)&req;

	if ((fd = socket(PF_ROUTE, SOCK_RAW, AF_INET)) == -1) {
		perror("route_tool: socket(PF_ROUTE)");
		return (1);
	}
	if (write(fd, &req, req.rtm.rtm_msglen) == -1) {
		switch (errno) {
		case EEXIST:
			(void) printf("%s %s: EEXIST (route already exists)\n", argv[1], argv[2]);
			return (3);
		case ESRCH:
			(void) printf("%s %s: ESRCH (no such route)\n", argv[1], argv[2]);
			return (4);
		default:
			(void) printf("%s %s: %s\n", argv[1], argv[2], strerror(errno));
			return (1);
		}
	}
	/* Our echo, or the RTM_GET answer, is the message with our pid and seq. */
	do {
		if ((n = read(fd, &reply, sizeof (reply))) == -1) {
			perror("route_tool: read");
			return (1);
		}
	} while (n < (ssize_t)sizeof (reply.rtm) || reply.rtm.rtm_pid != getpid() ||
	    reply.rtm.rtm_seq != seq);
	if (type == RTM_GET)
		show(&reply.rtm, n);
	else
		(void) printf("%s %s: done\n", argv[1], argv[2]);
	(void) close(fd);
	return (0);
}
