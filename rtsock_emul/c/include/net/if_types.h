/*
 * net/if_types.h -- the interface types the emulated kernel reports in
 * sdl_type and ifi_type (a subset of illumos' <net/if_types.h>).
 */
#ifndef _NET_IF_TYPES_H
#define	_NET_IF_TYPES_H

#define	IFT_OTHER	0x1
#define	IFT_ETHER	0x6
#define	IFT_LOOP	0x18
#define	IFT_IB		0xc7

#endif /* _NET_IF_TYPES_H */
