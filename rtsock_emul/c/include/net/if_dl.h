/*
 * net/if_dl.h -- illumos' link-level socket address (<net/if_dl.h>), for
 * programs built on Linux against the emulated routing socket.
 */
#ifndef _NET_IF_DL_H
#define	_NET_IF_DL_H

#include <sys/illumos_types.h>

#ifndef AF_LINK
#define	AF_LINK		25	/* illumos' number; Linux has no AF_LINK */
#endif

/* 252 bytes, 2-byte aligned; sdl_data holds the name, then the address. */
struct sockaddr_dl {
	ushort_t	sdl_family;	/* AF_LINK */
	ushort_t	sdl_index;	/* interface index, 0 if none */
	uchar_t		sdl_type;	/* IFT_ETHER, ... */
	uchar_t		sdl_nlen;	/* name length, no NUL */
	uchar_t		sdl_alen;	/* link-level address length */
	uchar_t		sdl_slen;	/* link-layer selector length */
	char		sdl_data[244];
};

#define	LLADDR(s)	((caddr_t)((s)->sdl_data + (s)->sdl_nlen))

#endif /* _NET_IF_DL_H */
