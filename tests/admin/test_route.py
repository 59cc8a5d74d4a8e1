"""route(8) against a sim agent, read as a person reads it: print_getmsg's block,
print_rtcmd_short's lines, inet_makenetandmask's classful masks, routename's
"default", and route.c's refusals (exit status = the illumos errno)."""
import io
import threading

import pytest

from rtsock_emul.admin.route import Route, run_route
from rtsock_emul.util.wait import wait_until
from tests.agent.agents import SIM_CONFIG, AgentProcess, admin_call, wait_addresses_up

METRICS = (" recvpipe  sendpipe  ssthresh    rtt,ms rttvar,ms  hopcount      mtu     expire\n"
           "       0         0         0         0         0         0      1500         0 \n")


@pytest.fixture(scope="module")
def agent():
    a = AgentProcess(SIM_CONFIG)
    try:
        wait_addresses_up(a.path)
        yield a
    finally:
        a.stop()


@pytest.fixture
def route(agent, capsys):
    def run(line):
        rc = run_route(agent.path, line.split(), lambda argv: admin_call(agent.path, argv))
        out, err = capsys.readouterr()
        return rc, out, err
    yield run
    for line in ("delete -net 10.0.0.0 192.0.2.1", "delete default 192.0.2.1",
                 "delete -inet6 2001:db8:5::/48 2001:db8:1::1"):
        run(line)


def test_M10_get_prints_print_getmsg_block_with_interface(route):
    """rtmsg sets RTA_IFP on a get, so the reply names the interface; print_getmsg's layout."""
    assert route("-n add -net 10.0.0.0 192.0.2.1")[:2] == (0, "add net 10.0.0.0: gateway 192.0.2.1\n")
    rc, out, err = route("-n get 10.1.2.3")
    assert (rc, err) == (0, "")
    assert out == ("   route to: 10.1.2.3\n"
                   "destination: 10.0.0.0\n"
                   "       mask: 255.0.0.0\n"
                   "    gateway: 192.0.2.1\n"
                   "  interface: net0\n"
                   "      flags: <UP,GATEWAY,DONE,STATIC>\n" + METRICS)


def test_get_of_an_interface_route_has_no_gateway_line(route):
    rc, out, err = route("-n get 192.0.2.77")
    assert rc == 0 and "gateway:" not in out
    assert out.startswith("   route to: 192.0.2.77\ndestination: 192.0.2.0\n       mask: 255.255.255.0\n"
                          "  interface: net0\n")


def test_get_missing_route_prints_not_in_table_without_perror(route):
    """newroute: ` DEST: not in table` on stdout (-n), exit ESRCH (3); nothing on stderr."""
    assert route("-n get 198.51.100.7") == (3, " 198.51.100.7: not in table\n", "")
    assert route("get 198.51.100.7") == (3, "198.51.100.7: not in table\n", "")


def test_classful_mask_and_rtcmd_short_errors(route):
    """inet_makenetandmask: 10.0.0.0 without a mask is 10.0.0.0/8 (even without -net);
    EEXIST and ESRCH print print_rtcmd_short + the word, no `writing to routing socket`."""
    assert route("add 10.0.0.0 192.0.2.1")[:2] == (0, "add net 10.0.0.0: gateway 192.0.2.1\n")
    assert "       mask: 255.0.0.0\n" in route("-n get 10.200.0.1")[1]
    assert route("add -net 10.0.0.0 192.0.2.1") == (
        17, "add net 10.0.0.0: gateway 192.0.2.1: entry exists\n", "")
    assert route("delete 172.16.0.0 192.0.2.1") == (
        3, "delete net 172.16.0.0: gateway 192.0.2.1: not in table\n", "")
    assert route("delete 172.16.0.1 192.0.2.1")[1] == (
        "delete host 172.16.0.1: gateway 192.0.2.1: not in table\n")


def test_default_is_printed_as_default(route):
    """routename: INADDR_ANY is "default", also as a mask."""
    assert route("add default 192.0.2.1")[:2] == (0, "add net default: gateway 192.0.2.1\n")
    out = route("-n get default")[1]
    assert out.startswith("   route to: default\ndestination: default\n       mask: default\n"
                          "    gateway: 192.0.2.1\n")


def test_ipv6_needs_inet6(route):
    """Without -inet6 the address is parsed as IPv4 and refused as route.c refuses it."""
    assert route("add 2001:db8:5::/48 2001:db8:1::1") == (
        1, "", "route: prefix length 48 out of range\n")
    assert route("add 2001:db8:5:: 2001:db8:1::1") == (1, "", "2001:db8:5::: bad value\n")
    assert route("add -inet6 2001:db8:5::/48 2001:db8:1::1")[:2] == (
        0, "add net 2001:db8:5::/48: gateway 2001:db8:1::1\n")
    out = route("-n get -inet6 2001:db8:5::1")[1]
    assert "destination: 2001:db8:5::\n       mask: ffff:ffff:ffff::\n" in out
    assert route("add -inet6 2001:db8:6::/48 2001:db8:1::1 -netmask ffff::")[2] == (
        "route: -netmask not supported for IPv6: use <prefix>/<prefix-length> instead\n")


BAD = ["", "-x", "frob", "add", "add -net", "get", "get 1.2.3.4/99", "get /24", "get 10/x",
       "add 10.0.0.0", "add -host -net 1 2", "add 1.2.3.4 1.2.3.5 -mtu", "add 1.2.3.4 1.2.3.5 -mtu abc",
       "add -inet6 ::1 1.2.3.4", "add 1.2.3.4 1.2.3.5/8", "monitor -frob", "flush -x extra",
       "get -link x", "add 1.2.3.4 1.2.3.5 junk", "get 300.1.1.1", "-p add 1 2", "show", "change",
       "get 1.2.3.4 -secattr x", "get 1.2.3.4 -lock", "add 1.2.3.4 1.2.3.5 -ifp", "get -inet6 zz::1",
       "get 1.2.3.4 -ifp nosuch", "delete -inet6 fe80::1%net0 fe80::2", "get -bogus 1.2.3.4",
       "get 1.2.3.4 -setsrc x"]


@pytest.mark.parametrize("line", BAD)
def test_bad_arguments_are_refused_without_a_traceback(route, line):
    rc, out, err = route(line)
    assert rc != 0 and "Traceback" not in err + out, (line, out, err)
    assert err.strip() or out.strip(), f"route {line!r} failed silently"


def test_monitor_prints_default_and_ends_quietly_when_the_agent_stops():
    a = AgentProcess(SIM_CONFIG)
    out, err, result = io.StringIO(), io.StringIO(), []
    try:
        wait_addresses_up(a.path)
        mon = Route(a.path, lambda argv: admin_call(a.path, argv), out, err)
        thread = threading.Thread(target=lambda: result.append(mon.main(["-n", "monitor"])),
                                  daemon=True)
        thread.start()
        wait_until(lambda: a.admin("ifindex", "net0")[0] == 0, 5, what="agent up")
        probe = io.StringIO()

        def added():
            for verb in ("delete", "add"):      # until the monitor's socket sees one
                Route(a.path, lambda argv: admin_call(a.path, argv), probe, probe).main(
                    [verb, "default", "192.0.2.1"])
            return "sockaddrs: <DST,GATEWAY,NETMASK>\n default 192.0.2.1 default\n" in out.getvalue()
        wait_until(added, 10, what="the monitor printing the RTM_ADD of default")
    finally:
        a.stop()
    thread.join(10)
    assert result == [0] and err.getvalue() == ""


GROUP_CONFIG = dict(SIM_CONFIG, interfaces=[
    {"name": "net0", "mac": "02:00:00:00:00:01", "ip": True},
    {"name": "net1", "mac": "02:00:00:00:00:02", "ip": True}])


def test_get_names_lo0_for_loopback_and_ipmp0_for_a_route_through_the_group(capsys):
    """A host boots with lo0 (ifindex 1, 127.0.0.1); a route through an IPMP group is
    reported on the IPMP interface, never on a member (M16: members are not visible)."""
    a = AgentProcess(GROUP_CONFIG)
    try:
        for line in ("ipadm create-ipmp -i net0,net1 ipmp0",
                     "ipadm create-addr -T static -a 192.0.2.10/24 ipmp0/v4"):
            assert admin_call(a.path, line.split())[0] == 0, line
        wait_addresses_up(a.path)

        def get(line):
            rc = run_route(a.path, line.split(), lambda argv: admin_call(a.path, argv))
            out, err = capsys.readouterr()
            assert (rc, err) == (0, ""), out + err
            return out
        assert get("-n get 127.0.0.1").startswith(
            "   route to: 127.0.0.1\ndestination: 127.0.0.1\n       mask: 255.255.255.255\n"
            "  interface: lo0\n")
        assert get("-n add default 192.0.2.1") == "add net default: gateway 192.0.2.1\n"
        out = get("-n get 198.51.100.7")
        assert "destination: default\n" in out and "    gateway: 192.0.2.1\n" in out
        assert "  interface: ipmp0\n" in out, out
    finally:
        a.stop()


def test_getmsg_prints_an_errno_reply_like_print_getmsg():
    """print_getmsg: "RTM_GET: <strerror> (errno N)" with the illumos number."""
    import io
    from types import SimpleNamespace

    from rtsock_emul.admin.route import Route
    from rtsock_emul.wire import RtMsghdr
    from rtsock_emul.wire import constants as C
    out, err = io.StringIO(), io.StringIO()
    rc = SimpleNamespace(addrs={C.RTA_DST: None})
    reply = RtMsghdr(C.RTM_GET, rtm_errno=C.ILLUMOS_ERRNO["ESRCH"])
    assert Route("unused", None, out, err).getmsg(rc, reply) == "   route to: default\n"
    assert err.getvalue() == "RTM_GET: No such process (errno 3)\n"
