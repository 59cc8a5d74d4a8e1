"""illumos constants of route.h, if.h and socket.h under their C names, with frozen name tables.

Values are illumos', not Linux's (AF_INET6 is 26 here). Errnos are the one
exception: Python-side errnos are Linux's `errno` module values; only
`rtm_errno` on the wire carries the illumos number (`to_wire_errno`).
"""
import collections.abc as _abc
import errno as _errno
from types import MappingProxyType

# socket level ([socket.h], [socket_impl.h])
AF_UNSPEC = 0
AF_INET = 2
AF_ROUTE = 24
PF_ROUTE = AF_ROUTE
AF_LINK = 25
AF_INET6 = 26
SOCK_RAW = 4
SOL_SOCKET = 0xFFFF
SOL_ROUTE = 0xFFFE
SO_USELOOPBACK = 0x0040
SO_SNDBUF = 0x1001
SO_RCVBUF = 0x1002
SO_PROTOTYPE = 0x1009
SHUT_RD, SHUT_WR, SHUT_RDWR = 0, 1, 2

# message types ([route.h])
RTM_VERSION = 3
RTM_ADD = 0x1
RTM_DELETE = 0x2
RTM_CHANGE = 0x3
RTM_GET = 0x4
RTM_LOSING = 0x5
RTM_REDIRECT = 0x6
RTM_MISS = 0x7
RTM_LOCK = 0x8
RTM_OLDADD = 0x9
RTM_OLDDEL = 0xA
RTM_RESOLVE = 0xB
RTM_NEWADDR = 0xC
RTM_DELADDR = 0xD
RTM_IFINFO = 0xE
RTM_CHGADDR = 0xF
RTM_FREEADDR = 0x10

# sockaddr bits, in wire order ([route.h])
RTA_DST = 0x1
RTA_GATEWAY = 0x2
RTA_NETMASK = 0x4
RTA_GENMASK = 0x8
RTA_IFP = 0x10
RTA_IFA = 0x20
RTA_AUTHOR = 0x40
RTA_BRD = 0x80
RTA_SRC = 0x100
RTA_NUMBITS = 9
RTAX_DST, RTAX_GATEWAY, RTAX_NETMASK, RTAX_GENMASK, RTAX_IFP = 0, 1, 2, 3, 4
RTAX_IFA, RTAX_AUTHOR, RTAX_BRD, RTAX_SRC = 5, 6, 7, 8
RTAX_MAX = 9
RTA_ALL = (1 << RTA_NUMBITS) - 1
RTMEX_GATEWAY_SECATTR = 1

# route flags ([route.h]); RTF_ZONE from newer headers
RTF_UP = 0x1
RTF_GATEWAY = 0x2
RTF_HOST = 0x4
RTF_REJECT = 0x8
RTF_DYNAMIC = 0x10
RTF_MODIFIED = 0x20
RTF_DONE = 0x40
RTF_MASK = 0x80
RTF_CLONING = 0x100
RTF_XRESOLVE = 0x200
RTF_LLINFO = 0x400
RTF_STATIC = 0x800
RTF_BLACKHOLE = 0x1000
RTF_PRIVATE = 0x2000
RTF_PROTO2 = 0x4000
RTF_PROTO1 = 0x8000
RTF_MULTIRT = 0x10000
RTF_SETSRC = 0x20000
RTF_INDIRECT = 0x40000
RTF_KERNEL = 0x80000
RTF_ZONE = 0x100000

# metric specifiers ([route.h])
RTV_MTU = 0x1
RTV_HOPCOUNT = 0x2
RTV_EXPIRE = 0x4
RTV_RPIPE = 0x8
RTV_SPIPE = 0x10
RTV_SSTHRESH = 0x20
RTV_RTT = 0x40
RTV_RTTVAR = 0x80

# routing socket options ([route.h]), queueing flags ([ip_rts.h])
RT_AWARE = 0x0001
RTAW_DEFAULT = 0x0000
RTAW_UNDER_IPMP = 0x0010
RTSQ_UNDER_IPMP = 0x01
RTSQ_NORMAL = 0x02
RTSQ_ALL = RTSQ_UNDER_IPMP | RTSQ_NORMAL
RTSQ_DEFAULT = 0x04

# interface flags, 64-bit ([if.h])
IFF_UP = 0x0000000001
IFF_BROADCAST = 0x0000000002
IFF_DEBUG = 0x0000000004
IFF_LOOPBACK = 0x0000000008
IFF_POINTOPOINT = 0x0000000010
IFF_NOTRAILERS = 0x0000000020
IFF_RUNNING = 0x0000000040
IFF_NOARP = 0x0000000080
IFF_PROMISC = 0x0000000100
IFF_ALLMULTI = 0x0000000200
IFF_INTELLIGENT = 0x0000000400
IFF_MULTICAST = 0x0000000800
IFF_MULTI_BCAST = 0x0000001000
IFF_UNNUMBERED = 0x0000002000
IFF_DHCPRUNNING = 0x0000004000
IFF_PRIVATE = 0x0000008000
IFF_NOXMIT = 0x0000010000
IFF_NOLOCAL = 0x0000020000
IFF_DEPRECATED = 0x0000040000
IFF_ADDRCONF = 0x0000080000
IFF_ROUTER = 0x0000100000
IFF_NONUD = 0x0000200000
IFF_ANYCAST = 0x0000400000
IFF_NORTEXCH = 0x0000800000
IFF_IPV4 = 0x0001000000
IFF_IPV6 = 0x0002000000
IFF_NOACCEPT = 0x0004000000
IFF_NOFAILOVER = 0x0008000000
IFF_FAILED = 0x0010000000
IFF_STANDBY = 0x0020000000
IFF_INACTIVE = 0x0040000000
IFF_OFFLINE = 0x0080000000
IFF_XRESOLV = 0x0100000000
IFF_COS_ENABLED = 0x0200000000
IFF_PREFERRED = 0x0400000000
IFF_TEMPORARY = 0x0800000000
IFF_FIXEDMTU = 0x1000000000
IFF_VIRTUAL = 0x2000000000
IFF_DUPLICATE = 0x4000000000
IFF_IPMP = 0x8000000000
IFF_VRRP = 0x10000000000
IFF_NOLINKLOCAL = 0x20000000000
IFF_L3PROTECT = 0x40000000000

IFF_CANTCHANGE = (
    IFF_BROADCAST | IFF_POINTOPOINT | IFF_RUNNING | IFF_PROMISC | IFF_MULTICAST
    | IFF_MULTI_BCAST | IFF_UNNUMBERED | IFF_IPV4 | IFF_IPV6 | IFF_IPMP | IFF_FIXEDMTU
    | IFF_VIRTUAL | IFF_LOOPBACK | IFF_ALLMULTI | IFF_DUPLICATE | IFF_COS_ENABLED
    | IFF_VRRP | IFF_NOLINKLOCAL | IFF_L3PROTECT)
IFF_IPMP_CANTCHANGE = IFF_FAILED
IFF_IPMP_INVALID = (
    IFF_STANDBY | IFF_INACTIVE | IFF_OFFLINE | IFF_NOFAILOVER | IFF_NOARP | IFF_NONUD
    | IFF_XRESOLV | IFF_NOACCEPT)
IFM_FLAGS_MASK = 0xFFFFFFFF  # ifm_flags carries only the low 32 bits (R45)

LIFC_NOXMIT = 0x01
LIFC_EXTERNAL_SOURCE = 0x02
LIFC_TEMPORARY = 0x04
LIFC_ALLZONES = 0x08
LIFC_UNDER_IPMP = 0x10
LIFC_ENABLED = 0x20
LIFNAMSIZ = 32
LIFGRNAMSIZ = 32
IFNAMSIZ = 16
IF_INDEX_MAX = 0xFFFF
IFT_OTHER = 0x1
IFT_ETHER = 0x6
IFT_LOOP = 0x18
IFT_IB = 0xC7


def _table(prefix: str, exclude: tuple[str, ...] = ()) -> _abc.Mapping[int, str]:
    """value -> C name for the module constants starting with prefix."""
    names: dict[int, str] = {}
    for name, value in globals().items():
        if name.startswith(prefix) and isinstance(value, int) and name not in exclude:
            names.setdefault(value, name)
    return MappingProxyType(dict(sorted(names.items())))


RTM_NAMES = _table("RTM_", exclude=("RTM_VERSION",))
RTA_NAMES = _table("RTA_", exclude=("RTA_NUMBITS", "RTA_ALL"))
RTAX_NAMES = _table("RTAX_", exclude=("RTAX_MAX",))
RTF_NAMES = _table("RTF_")
RTV_NAMES = _table("RTV_")
IFF_NAMES = _table("IFF_", exclude=("IFF_CANTCHANGE", "IFF_IPMP_CANTCHANGE",
                                    "IFF_IPMP_INVALID", "IFM_FLAGS_MASK"))
AF_NAMES = MappingProxyType({AF_UNSPEC: "AF_UNSPEC", AF_INET: "AF_INET", AF_ROUTE: "AF_ROUTE",
                             AF_LINK: "AF_LINK", AF_INET6: "AF_INET6"})
RTAW_NAMES = _table("RTAW_")
SHUT_NAMES = _table("SHUT_")
IFT_NAMES = _table("IFT_")
_TABLES = MappingProxyType({"RTM_": RTM_NAMES, "RTA_": RTA_NAMES, "RTAX_": RTAX_NAMES,
                            "RTF_": RTF_NAMES, "RTV_": RTV_NAMES, "IFF_": IFF_NAMES,
                            "AF_": AF_NAMES, "RTAW_": RTAW_NAMES, "SHUT_": SHUT_NAMES,
                            "IFT_": IFT_NAMES})


def name_of(table: _abc.Mapping[int, str], value: int) -> str:
    """The C name of value in table, or its hex text if the table lacks it."""
    return table.get(value, hex(value))


def value_of(prefix: str, name: str | int) -> int:
    """Value of a constant given with or without its prefix: ("RTF_", "UP") -> 1.

    Raises ValueError listing the known names when name is unknown.
    """
    if isinstance(name, int):
        return name
    table = _TABLES[prefix]
    full = name.strip().upper()
    if not full.startswith(prefix):
        full = prefix + full
    for value, known in table.items():
        if known == full:
            return value
    if full in globals() and isinstance(globals()[full], int):
        found: int = globals()[full]
        return found
    raise ValueError(f"unknown {prefix} name {name!r}; known: "
                     + ", ".join(n[len(prefix):] for n in table.values()))


def parse_flags(prefix: str, flags: int | str | _abc.Iterable[str]) -> int:
    """An int, one name, or an iterable of names ("UP" or "RTF_UP") -> int mask."""
    if isinstance(flags, int):
        return flags
    if isinstance(flags, str):
        flags = flags.replace(",", " ").replace("|", " ").split()
    mask = 0
    for flag in flags:
        mask |= value_of(prefix, flag)
    return mask


def flag_names(table: _abc.Mapping[int, str], mask: int, strip: str = "") -> list[str]:
    """Names of the bits set in mask, lowest first; unknown bits as hex."""
    names: list[str] = []
    rest = mask
    for value, name in table.items():
        if value and mask & value == value and value & (value - 1) == 0:
            names.append(name[len(strip):] if strip and name.startswith(strip) else name)
            rest &= ~value
    if rest:
        names.append(hex(rest))
    return names


# illumos errno numbers ([sys/errno.h]); routing-socket names plus neighbours.
ILLUMOS_ERRNO = MappingProxyType({
    "EPERM": 1, "ENOENT": 2, "ESRCH": 3, "EINTR": 4, "EIO": 5, "ENXIO": 6, "E2BIG": 7,
    "ENOEXEC": 8, "EBADF": 9, "ECHILD": 10, "EAGAIN": 11, "ENOMEM": 12, "EACCES": 13,
    "EFAULT": 14, "EBUSY": 16, "EEXIST": 17, "EXDEV": 18, "ENODEV": 19, "ENOTDIR": 20,
    "EISDIR": 21, "EINVAL": 22, "ENFILE": 23, "EMFILE": 24, "ENOTTY": 25, "EFBIG": 27,
    "ENOSPC": 28, "EPIPE": 32, "EDOM": 33, "ERANGE": 34, "ECANCELED": 47, "ENOTSUP": 48,
    "EPROTO": 71, "EOVERFLOW": 79, "ENOSYS": 89, "ENOTSOCK": 95, "EDESTADDRREQ": 96,
    "EMSGSIZE": 97, "EPROTOTYPE": 98, "ENOPROTOOPT": 99, "EPROTONOSUPPORT": 120,
    "ESOCKTNOSUPPORT": 121, "EOPNOTSUPP": 122, "EPFNOSUPPORT": 123, "EAFNOSUPPORT": 124,
    "EADDRINUSE": 125, "EADDRNOTAVAIL": 126, "ENETDOWN": 127, "ENETUNREACH": 128,
    "ENETRESET": 129, "ECONNABORTED": 130, "ECONNRESET": 131, "ENOBUFS": 132,
    "EISCONN": 133, "ENOTCONN": 134, "ESHUTDOWN": 143, "ETIMEDOUT": 145,
    "ECONNREFUSED": 146, "EHOSTDOWN": 147, "EHOSTUNREACH": 148, "EALREADY": 149,
    "EINPROGRESS": 150,
})
ILLUMOS_ERRNO_NAMES = MappingProxyType({v: k for k, v in ILLUMOS_ERRNO.items()})
# Linux errno value -> name; ENOTSUP and EOPNOTSUPP share 95 on Linux, which
# maps to the socket-level EOPNOTSUPP unless the name says otherwise.
ERRNO_NAMES = MappingProxyType({
    getattr(_errno, name): name for name in reversed(list(ILLUMOS_ERRNO))
    if hasattr(_errno, name)} | {_errno.EOPNOTSUPP: "EOPNOTSUPP"})


def errno_name(value: int | str) -> str:
    """A Linux errno (or a name, returned as is) -> its name; 0 -> "0"."""
    if isinstance(value, str):
        return value
    if value == 0:
        return "0"
    try:
        return ERRNO_NAMES[value]
    except KeyError:
        raise ValueError(f"errno {value} has no illumos equivalent in ILLUMOS_ERRNO") from None


def to_wire_errno(name_or_errno: int | str | None) -> int:
    """The illumos rtm_errno for an errno name ("EEXIST") or a Linux errno value."""
    if name_or_errno in (0, "0", None):
        return 0
    name = errno_name(name_or_errno)
    try:
        return ILLUMOS_ERRNO[name]
    except KeyError:
        raise ValueError(f"unknown errno name {name!r}; known: {', '.join(ILLUMOS_ERRNO)}") from None


def from_wire_errno(value: int) -> str:
    """The name of an illumos rtm_errno value ("0" for 0, "errno N" for unknown numbers)."""
    if value == 0:
        return "0"
    return ILLUMOS_ERRNO_NAMES.get(value, f"errno {value}")


def linux_errno(name: str) -> int:
    """The Linux errno for a name (ENOTSUP and EOPNOTSUPP are both 95)."""
    value: int = getattr(_errno, name)
    return value
