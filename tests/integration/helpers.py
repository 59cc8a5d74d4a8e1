"""Helpers for the Mininet integration tests: labs, recorded routing
sockets, a barrier that proves a stream is complete, message summaries."""
import itertools
import threading
import time

from rtsock_emul.util.wait import wait_until
from rtsock_emul.wire.constants import (
    IFF_NAMES,
    RT_AWARE,
    RTA_DST,
    RTA_IFA,
    RTA_IFP,
    RTAW_UNDER_IPMP,
    RTM_GET,
    RTM_NAMES,
    SOL_ROUTE,
    flag_names,
    name_of,
)

# Mininet mode; FDT 1 s (probe interval 142 ms) and a 1 s quiet period (R131,
# shortened so that failure detection can be measured; see docs/internals.md).
FAST_MPATHD = {"failure_detection_time": 1000, "quiet_period": 1000}
_seq = itertools.count(7000)




class Recorder:
    """A routing socket read by a thread: every message with its arrival time."""

    def __init__(self, lab, host, *, aware=False, protocol=0):
        self.sock = lab.open_socket(host, protocol)
        if aware:
            self.sock.setsockopt(SOL_ROUTE, RT_AWARE, RTAW_UNDER_IPMP)
        self.msgs: list = []        # (monotonic time, message)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                msg = self.sock.read_msg(timeout=0.1)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                raise
            with self._lock:
                self.msgs.append((time.monotonic(), msg))

    def mark(self) -> int:
        with self._lock:
            return len(self.msgs)

    def since(self, mark=0) -> list:
        with self._lock:
            return [m for _, m in self.msgs[mark:]]

    def timed(self, mark=0) -> list:
        with self._lock:
            return list(self.msgs[mark:])

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()




def barrier(lab, host, *recs, timeout=3.0):
    """Everything the agent queued for `recs` before now has been read once this
    returns: an RTM_GET echo goes to every socket (R30) after what came before it."""
    seq = next(_seq)
    with lab.open_socket(host) as s:
        try:
            s.write(_barrier_request(seq))
        except OSError:
            pass                              # ESRCH still echoes to everyone
    for rec in recs:
        wait_until(lambda rec=rec: any(m.type == RTM_GET and m.rtm_seq == seq for m in rec.since()),
                   timeout, what=f"barrier RTM_GET seq {seq}")
    return seq


def _barrier_request(seq):
    from rtsock_emul.client import RtMsg
    return RtMsg(type="RTM_GET", dst="203.0.113.99", seq=seq)


def summary(msg) -> str:
    """'RTM_IFINFO net0 -RUNNING +FAILED'-like text: type, ifname, IFF flags set."""
    name = name_of(RTM_NAMES, msg.type)
    sdl = msg.sockaddrs.get(RTA_IFP) if hasattr(msg, "sockaddrs") else None
    ifname = getattr(sdl, "name", "") or str(getattr(msg, "ifm_index", ""))
    if hasattr(msg, "ifm_flags"):
        return f"{name} {ifname} " + ",".join(flag_names(IFF_NAMES, msg.ifm_flags, strip="IFF_"))
    if hasattr(msg, "ifam_flags"):
        return f"{name} {ifname} {getattr(msg.sockaddrs.get(RTA_IFA), 'addr', '')}"
    dst = msg.sockaddrs.get(RTA_DST) if hasattr(msg, "sockaddrs") else None
    return f"{name} {getattr(dst, 'addr', '')}"


def events(rec_or_msgs, mark=0, *, types=None):
    """Summaries (`summary`) of the recorded messages, barrier echoes left out."""
    msgs = rec_or_msgs.since(mark) if isinstance(rec_or_msgs, Recorder) else rec_or_msgs
    out = [m for m in msgs if m.type != RTM_GET]
    if types is not None:
        out = [m for m in out if name_of(RTM_NAMES, m.type) in types]
    return [summary(m) for m in out]


def settle(lab, host, timeout=5.0, *, skip=()):
    """Wait until no UP address of `host` is still in DAD (ipadm show-addr STATE),
    except on the interfaces in `skip` (a link that is down keeps DAD waiting, R102)."""
    def done():
        rows = lab.admin_ok(host, "ipadm show-addr").splitlines()[1:]
        return not [r for r in rows if " tentative " in r and r.split("/")[0] not in skip]
    wait_until(done, timeout, what=f"DAD to finish on {host}")


def ipmpstat(lab, host, opt) -> str:
    return lab.admin_ok(host, f"ipmpstat {opt}")
