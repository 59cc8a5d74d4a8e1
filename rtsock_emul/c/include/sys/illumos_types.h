/*
 * sys/illumos_types.h -- the illumos <sys/types.h> names that routing-socket
 * programs use without including anything more (uchar_t, uint_t, boolean_t,
 * struct timeval32), on top of the system's <sys/types.h>.  Included by this
 * directory's <net/route.h>, <net/if.h> and <net/if_dl.h>.
 */
#ifndef _SYS_ILLUMOS_TYPES_H
#define	_SYS_ILLUMOS_TYPES_H

#include <sys/types.h>
#include <stdint.h>

typedef unsigned char		uchar_t;
typedef unsigned short		ushort_t;
typedef unsigned int		uint_t;
typedef unsigned long		ulong_t;
typedef long long		longlong_t;
typedef unsigned long long	u_longlong_t;
typedef char			*caddr_t;
typedef enum { B_FALSE, B_TRUE } boolean_t;

/* if_data's ifi_lastchange is 32-bit on LP64 illumos (<sys/time_impl.h>). */
struct timeval32 {
	int32_t	tv_sec;
	int32_t	tv_usec;
};

#endif /* _SYS_ILLUMOS_TYPES_H */
