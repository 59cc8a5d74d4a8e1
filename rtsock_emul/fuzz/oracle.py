"""Which errnos the rules allow for one routing-socket write (R6-R26, spec order of
ip_rts_request_common): the header checks give exactly one errno; after them
each rtm_type has its own set. EIO (the agent failed inside) is never allowed."""
from __future__ import annotations

from rtsock_emul.wire import constants as C
from rtsock_emul.wire.structs import RT_MSGHDR

HDR_SIZE = RT_MSGHDR.size
_PRIVILEGE_EXEMPT = (C.RTM_GET, C.RTM_RESOLVE)  # R9

# Step 5 on: R10-R16 give EINVAL; R11's family errors; then the per-type rules.
PER_TYPE = {
    C.RTM_ADD: frozenset({"0", "EINVAL", "ESRCH", "EADDRNOTAVAIL", "ENOTSUP", "ENETUNREACH",
                          "EEXIST", "ENOMEM"}),                                    # R11, R18, R20-R22
    C.RTM_DELETE: frozenset({"0", "EINVAL", "ESRCH"}),                            # R11, R19, R23
    C.RTM_GET: frozenset({"0", "EINVAL", "EAFNOSUPPORT", "EOPNOTSUPP", "ESRCH", "ENOBUFS"}),  # R24, R25
    C.RTM_CHANGE: frozenset({"0", "EINVAL", "EAFNOSUPPORT", "EOPNOTSUPP", "ESRCH", "ENETUNREACH"}),
}
OTHER_TYPES = frozenset({"EINVAL", "EOPNOTSUPP"})                                  # R10, R11, R26

# Control records (setsockopt/getsockopt/shutdown, R1, R31-R36, R41): what a reply may carry.
CONTROL = frozenset({"0", "EINVAL", "ENOPROTOOPT", "ENOBUFS", "EPROTONOSUPPORT"})


def allowed(data: bytes, privileged: bool) -> frozenset[str]:
    """Errno names (or "0") the rules allow for writing `data`."""
    if len(data) < HDR_SIZE:
        return frozenset({"EINVAL"})                                               # R6
    hdr = RT_MSGHDR.unpack(data)
    if hdr["rtm_msglen"] != len(data):
        return frozenset({"EINVAL"})                                               # R7
    if hdr["rtm_version"] != C.RTM_VERSION:
        return frozenset({"EPROTONOSUPPORT"})                                      # R8
    if not privileged and hdr["rtm_type"] not in _PRIVILEGE_EXEMPT:
        return frozenset({"EPERM"})                                                # R9
    return PER_TYPE.get(hdr["rtm_type"], OTHER_TYPES)
