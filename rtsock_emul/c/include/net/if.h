/*
 * net/if.h -- illumos' <net/if.h> for programs built on Linux against the
 * emulated routing socket: the 64-bit IFF_ flags with illumos' numbers, the
 * routing-socket interface messages (if_msghdr, ifa_msghdr, if_data), the name
 * sizes, and the if_nametoindex(3SOCKET) family (libc's functions; with the
 * preload shim loaded they answer from the emulated kernel).
 *
 * It replaces the system's <net/if.h> (it is found first with -I) and takes its
 * include guard, so the two never meet: Linux's struct ifreq and SIOC ioctls
 * are not here, as illumos' are not emulated.
 */
#ifndef _NET_IF_H
#define	_NET_IF_H

#include <sys/illumos_types.h>
#include <net/if_types.h>

#define	IFNAMSIZ	16
#define	IF_NAMESIZE	IFNAMSIZ
#define	LIFNAMSIZ	32
#define	LIFGRNAMSIZ	LIFNAMSIZ

/* Interface flags: uint64_t in lifr_flags; ifm_flags carries the low 32 bits. */
#define	IFF_UP		0x0000000001
#define	IFF_BROADCAST	0x0000000002
#define	IFF_DEBUG	0x0000000004
#define	IFF_LOOPBACK	0x0000000008
#define	IFF_POINTOPOINT	0x0000000010
#define	IFF_NOTRAILERS	0x0000000020
#define	IFF_RUNNING	0x0000000040
#define	IFF_NOARP	0x0000000080
#define	IFF_PROMISC	0x0000000100
#define	IFF_ALLMULTI	0x0000000200
#define	IFF_INTELLIGENT	0x0000000400
#define	IFF_MULTICAST	0x0000000800
#define	IFF_MULTI_BCAST	0x0000001000
#define	IFF_UNNUMBERED	0x0000002000
#define	IFF_DHCPRUNNING	0x0000004000
#define	IFF_PRIVATE	0x0000008000
#define	IFF_NOXMIT	0x0000010000
#define	IFF_NOLOCAL	0x0000020000
#define	IFF_DEPRECATED	0x0000040000
#define	IFF_ADDRCONF	0x0000080000
#define	IFF_ROUTER	0x0000100000
#define	IFF_NONUD	0x0000200000
#define	IFF_ANYCAST	0x0000400000
#define	IFF_NORTEXCH	0x0000800000
#define	IFF_IPV4	0x0001000000
#define	IFF_IPV6	0x0002000000
#define	IFF_NOACCEPT	0x0004000000
#define	IFF_NOFAILOVER	0x0008000000
#define	IFF_FAILED	0x0010000000
#define	IFF_STANDBY	0x0020000000
#define	IFF_INACTIVE	0x0040000000
#define	IFF_OFFLINE	0x0080000000
#define	IFF_XRESOLV	0x0100000000ll
#define	IFF_COS_ENABLED	0x0200000000ll
#define	IFF_PREFERRED	0x0400000000ll
#define	IFF_TEMPORARY	0x0800000000ll
#define	IFF_FIXEDMTU	0x1000000000ll
#define	IFF_VIRTUAL	0x2000000000ll
#define	IFF_DUPLICATE	0x4000000000ll
#define	IFF_IPMP	0x8000000000ll
#define	IFF_VRRP	0x10000000000ll
#define	IFF_NOLINKLOCAL	0x20000000000ll
#define	IFF_L3PROTECT	0x40000000000ll

/* Interface statistics in RTM_IFINFO; 68 bytes on LP64. */
struct if_data {
	uchar_t		ifi_type;	/* IFT_ETHER, ... */
	uchar_t		ifi_addrlen;
	uchar_t		ifi_hdrlen;
	uint_t		ifi_mtu;
	uint_t		ifi_metric;
	uint_t		ifi_baudrate;
	uint_t		ifi_ipackets;
	uint_t		ifi_ierrors;
	uint_t		ifi_opackets;
	uint_t		ifi_oerrors;
	uint_t		ifi_collisions;
	uint_t		ifi_ibytes;
	uint_t		ifi_obytes;
	uint_t		ifi_imcasts;
	uint_t		ifi_omcasts;
	uint_t		ifi_iqdrops;
	uint_t		ifi_noproto;
	struct timeval32 ifi_lastchange;
};

/* RTM_IFINFO: the header, then the sockaddrs named by ifm_addrs. */
struct if_msghdr {
	ushort_t	ifm_msglen;
	uchar_t		ifm_version;	/* RTM_VERSION */
	uchar_t		ifm_type;	/* RTM_IFINFO */
	int		ifm_addrs;	/* RTA_ bits of the sockaddrs that follow */
	int		ifm_flags;	/* low 32 bits of the IFF_ flags */
	ushort_t	ifm_index;
	struct if_data	ifm_data;
};

/* RTM_NEWADDR, RTM_DELADDR, RTM_CHGADDR, RTM_FREEADDR. */
struct ifa_msghdr {
	ushort_t	ifam_msglen;
	uchar_t		ifam_version;
	uchar_t		ifam_type;
	int		ifam_addrs;
	int		ifam_flags;	/* RTF_ flags of the address's route */
	ushort_t	ifam_index;
	int		ifam_metric;
};

struct if_nameindex {
	unsigned int	if_index;
	char		*if_name;
};

#ifdef __cplusplus
extern "C" {
#endif
extern unsigned int if_nametoindex(const char *);
extern char *if_indextoname(unsigned int, char *);
extern struct if_nameindex *if_nameindex(void);
extern void if_freenameindex(struct if_nameindex *);
#ifdef __cplusplus
}
#endif

#endif /* _NET_IF_H */
