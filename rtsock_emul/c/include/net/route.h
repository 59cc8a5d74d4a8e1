/*
 * net/route.h -- illumos' routing socket (route(4P), <net/route.h>) for programs
 * built on Linux with -I$RTSOCK_INCLUDE and run with LD_PRELOAD=$RTSOCK_PRELOAD.
 *
 * PF_ROUTE: Linux's <sys/socket.h> makes PF_ROUTE an alias of PF_NETLINK (16).
 * This header includes <sys/socket.h> itself and then redefines PF_ROUTE and
 * AF_ROUTE as illumos' 24.  <sys/socket.h> has an include guard, so it does
 * not undo this when the program includes it again later: every file that
 * includes <net/route.h> sees 24, whatever the include order.  Files that do
 * not (a netlink library in the same process) keep PF_NETLINK, and the shim
 * takes only socket(24, SOCK_RAW, ...), which Linux (AF_PPPOX) never serves.
 *
 * Messages are illumos' bytes: the structs below have illumos' LP64 layouts,
 * rtm_errno holds illumos' errno numbers, and IPv6 sockaddrs carry illumos'
 * AF_INET6 (26) in a 32-byte sockaddr_in6 (Linux's is 10 and 28 bytes).
 */
#ifndef _NET_ROUTE_H
#define	_NET_ROUTE_H

#include <sys/illumos_types.h>
#include <sys/socket.h>

#undef	PF_ROUTE
#undef	AF_ROUTE
#define	AF_ROUTE	24
#define	PF_ROUTE	AF_ROUTE
#ifndef AF_LINK
#define	AF_LINK		25
#endif

/* Socket options of a routing socket, at SOL_SOCKET (illumos numbers). */
#ifndef SO_USELOOPBACK
#define	SO_USELOOPBACK	0x0040	/* receive our own requests' echoes */
#endif
#ifndef SO_PROTOTYPE
#define	SO_PROTOTYPE	0x1009	/* restrict to one address family */
#endif
#ifndef SOL_ROUTE
#define	SOL_ROUTE	0xfffe
#endif
#define	RT_AWARE	0x0001	/* SOL_ROUTE option */
#define	RTAW_DEFAULT	0x0000
#define	RTAW_UNDER_IPMP	0x0010	/* also see interfaces under IPMP */

/* Kept in every route's metrics; 40 bytes. */
struct rt_metrics {
	uint32_t	rmx_locks;	/* RTV_ bits the kernel must not change */
	uint32_t	rmx_mtu;
	uint32_t	rmx_hopcount;
	uint32_t	rmx_expire;
	uint32_t	rmx_recvpipe;
	uint32_t	rmx_sendpipe;
	uint32_t	rmx_ssthresh;
	uint32_t	rmx_rtt;
	uint32_t	rmx_rttvar;
	uint32_t	rmx_pksent;
};

#define	RTV_MTU		0x1
#define	RTV_HOPCOUNT	0x2
#define	RTV_EXPIRE	0x4
#define	RTV_RPIPE	0x8
#define	RTV_SPIPE	0x10
#define	RTV_SSTHRESH	0x20
#define	RTV_RTT		0x40
#define	RTV_RTTVAR	0x80

#define	RTF_UP		0x1
#define	RTF_GATEWAY	0x2
#define	RTF_HOST	0x4
#define	RTF_REJECT	0x8
#define	RTF_DYNAMIC	0x10
#define	RTF_MODIFIED	0x20
#define	RTF_DONE	0x40
#define	RTF_MASK	0x80
#define	RTF_CLONING	0x100
#define	RTF_XRESOLVE	0x200
#define	RTF_LLINFO	0x400
#define	RTF_STATIC	0x800
#define	RTF_BLACKHOLE	0x1000
#define	RTF_PRIVATE	0x2000
#define	RTF_PROTO2	0x4000
#define	RTF_PROTO1	0x8000
#define	RTF_MULTIRT	0x10000
#define	RTF_SETSRC	0x20000
#define	RTF_INDIRECT	0x40000
#define	RTF_KERNEL	0x80000
#define	RTF_ZONE	0x100000

/* 76 bytes; the field order is the header's, not route(4P)'s page. */
struct rt_msghdr {
	ushort_t	rtm_msglen;
	uchar_t		rtm_version;	/* RTM_VERSION */
	uchar_t		rtm_type;	/* RTM_ADD, ... */
	ushort_t	rtm_index;	/* interface index */
	int		rtm_flags;	/* RTF_ */
	int		rtm_addrs;	/* RTA_ bits of the sockaddrs that follow */
	pid_t		rtm_pid;
	int		rtm_seq;
	int		rtm_errno;	/* illumos errno number */
	int		rtm_use;
	uint_t		rtm_inits;	/* RTV_ bits of rtm_rmx to set */
	struct rt_metrics rtm_rmx;
};

#define	RTM_VERSION	3

#define	RTM_ADD		0x1
#define	RTM_DELETE	0x2
#define	RTM_CHANGE	0x3
#define	RTM_GET		0x4
#define	RTM_LOSING	0x5
#define	RTM_REDIRECT	0x6
#define	RTM_MISS	0x7
#define	RTM_LOCK	0x8
#define	RTM_OLDADD	0x9
#define	RTM_OLDDEL	0xa
#define	RTM_RESOLVE	0xb
#define	RTM_NEWADDR	0xc
#define	RTM_DELADDR	0xd
#define	RTM_IFINFO	0xe
#define	RTM_CHGADDR	0xf
#define	RTM_FREEADDR	0x10

/* Sockaddrs follow the header in this order, each at its natural size. */
#define	RTA_DST		0x1
#define	RTA_GATEWAY	0x2
#define	RTA_NETMASK	0x4
#define	RTA_GENMASK	0x8
#define	RTA_IFP		0x10
#define	RTA_IFA		0x20
#define	RTA_AUTHOR	0x40
#define	RTA_BRD		0x80
#define	RTA_SRC		0x100
#define	RTA_NUMBITS	9

#define	RTAX_DST	0
#define	RTAX_GATEWAY	1
#define	RTAX_NETMASK	2
#define	RTAX_GENMASK	3
#define	RTAX_IFP	4
#define	RTAX_IFA	5
#define	RTAX_AUTHOR	6
#define	RTAX_BRD	7
#define	RTAX_SRC	8
#define	RTAX_MAX	RTA_NUMBITS

#endif /* _NET_ROUTE_H */
