"""The routing table: ip_rt_add/ip_rt_delete/lookup (R20-R24, R77, M6, M22) and
kernel-generated route messages (R82-R84, R130, R132)."""
import errno

import pytest

from rtsock_emul.kernel import KernelError
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.messages import encode

from .helpers import MAC0, V4, V6, up

GW = C.RTF_GATEWAY | C.RTF_STATIC


@pytest.fixture
def k(kernel, clock, hooks):
    kernel.plumb("net0", V4, mac=MAC0)
    up(kernel, clock, hooks, "net0", addr="192.0.2.1")
    hooks.take()
    return kernel


def err(fn, *a, **kw):
    with pytest.raises(KernelError) as e:
        fn(*a, **kw)
    return e.value.errno


def test_M5_interface_routes_on_up(k):
    """M5: an UP address installs its subnet route (RTF_KERNEL) and local entry."""
    r = k.route_get(V4, "192.0.2.77")
    assert (str(r.dst), r.prefixlen) == ("192.0.2.0", 24) and r.flags & C.RTF_KERNEL
    assert k.route_get(V4, "192.0.2.1").local


def test_M6_longest_prefix_match(k):
    """M6/M7: the most specific route wins; the default route catches the rest."""
    k.route_add(V4, "0.0.0.0", "0.0.0.0", "192.0.2.254", GW)
    k.route_add(V4, "198.51.100.0", "255.255.255.0", "192.0.2.253", GW)
    k.route_add(V4, "198.51.100.7", None, "192.0.2.252", GW | C.RTF_HOST)
    assert str(k.lookup("198.51.100.7").gateway) == "192.0.2.252"
    assert str(k.lookup("198.51.100.8").gateway) == "192.0.2.253"
    assert str(k.lookup("203.0.113.1").gateway) == "192.0.2.254"
    assert k.route_get(V4, "198.51.100.7").flags & C.RTF_HOST


def test_R20_route_exists(k):
    """R20: adding an identical route -> EEXIST."""
    k.route_add(V4, "198.51.100.0", "255.255.255.0", "192.0.2.253", GW)
    assert err(k.route_add, V4, "198.51.100.0", "255.255.255.0", "192.0.2.253", GW) == errno.EEXIST


def test_R21_gateway_unreachable(k):
    """R21: gateway 0.0.0.0, off-link, or local -> ENETUNREACH."""
    assert err(k.route_add, V4, "198.51.100.0", "255.255.255.0", "0.0.0.0", GW) == errno.ENETUNREACH
    assert err(k.route_add, V4, "198.51.100.0", "255.255.255.0", "203.0.113.9", GW) == errno.ENETUNREACH
    assert err(k.route_add, V4, "198.51.100.0", "255.255.255.0", "192.0.2.1", GW) == errno.ENETUNREACH


def test_interface_route_via_local_address(k):
    """route add -interface: a local gateway without RTF_GATEWAY makes an interface route."""
    r = k.route_add(V4, "198.51.100.0", "255.255.255.0", "192.0.2.1", C.RTF_STATIC)
    assert r.ill.name == "net0"


def test_R22_noncontiguous_mask(k):
    """R22: a non-contiguous IPv4 mask -> ENOTSUP."""
    assert err(k.route_add, V4, "198.51.100.0", "255.0.255.0", "192.0.2.253", GW) == errno.ENOTSUP


def test_R23_delete(k):
    """R23: deleting a missing route or an RTF_KERNEL route -> ESRCH."""
    k.route_add(V4, "198.51.100.0", "255.255.255.0", "192.0.2.253", GW)
    k.route_delete(V4, "198.51.100.0", "255.255.255.0", "192.0.2.253")
    assert err(k.route_delete, V4, "198.51.100.0", "255.255.255.0", "192.0.2.253") == errno.ESRCH
    assert err(k.route_delete, V4, "192.0.2.0", "255.255.255.0", "192.0.2.1") == errno.ESRCH


def test_R24_get_no_route(k):
    """R24: RTM_GET with nothing matching -> ESRCH; a gateway narrows the match."""
    assert err(k.route_get, V4, "203.0.113.1") == errno.ESRCH
    k.route_add(V4, "198.51.100.0", "255.255.255.0", "192.0.2.253", GW)
    assert err(k.route_get, V4, "198.51.100.1", gateway="192.0.2.9") == errno.ESRCH
    assert k.route_get(V4, "198.51.100.0", "255.255.255.0").prefixlen == 24
    assert err(k.route_get, V4, "198.51.100.0", "255.255.0.0") == errno.ESRCH


def test_metrics_rtt_stored_in_ms(k):
    """rts_setmetrics: RTT/RTTVAR arrive in µs, stored /1000, reported in µs (R80)."""
    r = k.route_add(V4, "198.51.100.0", "255.255.255.0", "192.0.2.253", GW,
                    metrics={C.RTV_RTT: 25000, C.RTV_MTU: 1400, C.RTV_HOPCOUNT: 3})
    assert r.metrics == {C.RTV_RTT: 25, C.RTV_MTU: 1400}
    inits, values = r.rmx()
    assert inits & C.RTV_MTU and values[C.RTV_RTT] == 25000


def test_route_change(k):
    """RTM_CHANGE: new gateway and metrics; flipping MULTIRT -> EINVAL."""
    k.route_add(V4, "198.51.100.0", "255.255.255.0", "192.0.2.253", GW)
    r = k.route_change(V4, "198.51.100.0", "255.255.255.0", "192.0.2.252", GW,
                       metrics={C.RTV_SSTHRESH: 9})
    assert str(r.gateway) == "192.0.2.252" and r.metrics[C.RTV_SSTHRESH] == 9
    assert err(k.route_change, V4, "198.51.100.0", "255.255.255.0", None, GW | C.RTF_MULTIRT) == errno.EINVAL


def test_M22_deleted_route_kept_while_referenced(k):
    """M22: a route deleted while in use leaves lookups; it is freed when released."""
    r = k.route_add(V4, "198.51.100.0", "255.255.255.0", "192.0.2.253", GW)
    k.route_ref(r)
    k.route_delete(V4, "198.51.100.0", "255.255.255.0", "192.0.2.253")
    assert k.lookup("198.51.100.1") is None and r.condemned
    assert not r.flags & C.RTF_UP                                   # marked down
    assert k.condemned_routes() == [r]
    k.route_unref(r)
    assert k.condemned_routes() == []


def test_routes_leave_with_address(k, hooks):
    """Interface routes go when the address goes down."""
    k.set_flags("net0", V4, clear=C.IFF_UP)
    assert k.lookup("192.0.2.9") is None


def test_R82_miss(k, hooks):
    """R82: RTM_MISS with RTA_DST only, RTF_DONE, to all."""
    k.emit_miss("203.0.113.5")
    (m, af, rtsq), = hooks.take_msgs()
    assert m.rtm_type == C.RTM_MISS and list(m.sockaddrs) == [C.RTA_DST] and m.rtm_flags == C.RTF_DONE
    assert rtsq == C.RTSQ_ALL and len(encode(m)) == 92


def test_R83_R130_redirect(k, hooks):
    """R83: DST|GATEWAY|NETMASK|AUTHOR, DYNAMIC|GATEWAY|HOST|DONE; R130: v6 author is zero."""
    k.emit_redirect("203.0.113.5", "192.0.2.9", "192.0.2.254")
    (m, af, rtsq), = hooks.take_msgs()
    assert m.rtm_flags == C.RTF_DYNAMIC | C.RTF_GATEWAY | C.RTF_HOST | C.RTF_DONE
    assert len(encode(m)) == 140 and str(m.sockaddrs[C.RTA_AUTHOR].addr) == "192.0.2.254"
    k.emit_redirect("2001:db8::5", "fe80::1", "fe80::2")
    (m, af, rtsq), = hooks.take_msgs()
    assert af == V6 and len(encode(m)) == 204 and str(m.sockaddrs[C.RTA_AUTHOR].addr) == "::"


def test_R132_losing(k, hooks):
    """R132: IPv4 only; DST|GATEWAY|NETMASK|IFA with IFA 0.0.0.0, RTF_DONE."""
    k.emit_losing("192.0.2.77", "192.0.2.9")
    (m, af, rtsq), = hooks.take_msgs()
    assert m.rtm_type == C.RTM_LOSING and str(m.sockaddrs[C.RTA_IFA].addr) == "0.0.0.0"
    assert m.rtm_flags == C.RTF_DONE
    assert err(k.emit_losing, "2001:db8::1", "fe80::1") == errno.EAFNOSUPPORT


def test_R84_oldadd_olddel(k, hooks):
    """R84: SIOCADDRT/SIOCDELRT emit RTM_OLDADD/RTM_OLDDEL; route_add emits nothing."""
    k.route_add(V4, "198.51.100.0", "255.255.255.0", "192.0.2.253", GW)
    assert hooks.take() == []
    k.ioctl_addrt("203.0.113.0", "192.0.2.253", "255.255.255.0")
    k.ioctl_delrt("203.0.113.0", "192.0.2.253", "255.255.255.0")
    msgs = hooks.take_msgs()
    assert [m.rtm_type for m, *_ in msgs] == [C.RTM_OLDADD, C.RTM_OLDDEL]
    assert list(msgs[0][0].sockaddrs) == [C.RTA_DST, C.RTA_GATEWAY, C.RTA_NETMASK]
    assert msgs[0][0].rtm_flags & C.RTF_DONE and len(encode(msgs[0][0])) == 124
