"""Golden bytes written by hand from the offsets of R3-R5, independent of the
code under test: literal offsets, little-endian host integers, network-order
addresses. Nothing here imports rtsock_emul."""
import socket
import struct


def sin(addr):
    """R3, R5 sockaddr_in: family u16 @0 = 2, port @2, addr @4, zero[8] @8."""
    b = bytearray(16)
    struct.pack_into("<H", b, 0, 2)
    b[4:8] = socket.inet_pton(socket.AF_INET, addr)
    return bytes(b)


def sin6(addr, scope_id=0):
    """R3, R5 sockaddr_in6: family @0 = 26, port @2, flowinfo @4, addr @8, scope_id @24, src_id @28."""
    b = bytearray(32)
    struct.pack_into("<H", b, 0, 26)
    b[8:24] = socket.inet_pton(socket.AF_INET6, addr)
    struct.pack_into("<I", b, 24, scope_id)
    return bytes(b)


def sdl(index, iftype, name, mac, alen=None):
    """R3, R5 sockaddr_dl (252): family @0 = 25, index @2, type @4, nlen @5, alen @6,
    slen @7, data @8 = name (no NUL) then the MAC."""
    b = bytearray(252)
    struct.pack_into("<HHBBBB", b, 0, 25, index, iftype, len(name), len(mac) if alen is None else alen, 0)
    b[8:8 + len(name)] = name.encode()
    b[8 + len(name):8 + len(name) + len(mac)] = mac
    return bytes(b)


def rt_msghdr(msglen, rtm_type, addrs, flags=0, index=0, pid=0, seq=0, errno=0, use=0,
              inits=0, rmx=(0,) * 10):
    """R4 rt_msghdr (76): msglen @0, version @2, type @3, index @4, flags @8, addrs @12,
    pid @16, seq @20, errno @24, use @28, inits @32, rmx @36 (ten u32)."""
    b = bytearray(76)
    struct.pack_into("<H", b, 0, msglen)
    b[2], b[3] = 3, rtm_type
    struct.pack_into("<H", b, 4, index)
    struct.pack_into("<I", b, 8, flags)
    struct.pack_into("<I", b, 12, addrs)
    struct.pack_into("<iiiiI", b, 16, pid, seq, errno, use, inits)
    struct.pack_into("<10I", b, 36, *rmx)
    return bytes(b)


def if_msghdr(msglen, addrs, flags, index, ifi_type, mtu, metric=0):
    """R3 if_msghdr (84): msglen @0, version @2, type @3 = 0xe, addrs @4, flags @8,
    index @12, if_data @16 (ifi_type @16+0, ifi_mtu @16+4, ifi_metric @16+8, rest 0)."""
    b = bytearray(84)
    struct.pack_into("<H", b, 0, msglen)
    b[2], b[3] = 3, 0x0E
    struct.pack_into("<I", b, 4, addrs)
    struct.pack_into("<I", b, 8, flags)
    struct.pack_into("<H", b, 12, index)
    b[16] = ifi_type
    struct.pack_into("<II", b, 20, mtu, metric)
    return bytes(b)


def ifa_msghdr(msglen, rtm_type, addrs, flags, index, metric=0):
    """R3 ifa_msghdr (20): msglen @0, version @2, type @3, addrs @4, flags @8, index @12, metric @16."""
    b = bytearray(20)
    struct.pack_into("<H", b, 0, msglen)
    b[2], b[3] = 3, rtm_type
    struct.pack_into("<I", b, 4, addrs)
    struct.pack_into("<I", b, 8, flags)
    struct.pack_into("<H", b, 12, index)
    struct.pack_into("<i", b, 16, metric)
    return bytes(b)


# An RTM_MISS for 198.51.100.1, typed out byte by byte (92 bytes):
MISS_V4_HEX = (
    "5c00" "03" "07" "0000" "0000"      # msglen 92, version 3, type 7, index 0, pad
    "40000000" "01000000"               # flags RTF_DONE, addrs RTA_DST
    "00000000" "00000000" "00000000"    # pid, seq, errno
    "00000000" "00000000"               # use, inits
    + "00" * 40 +                       # rtm_rmx
    "0200" "0000" "c6336401" + "00" * 8  # sockaddr_in 198.51.100.1
)
