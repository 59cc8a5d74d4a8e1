"""`route -n monitor` rendering, JSON view and the `python -m rtsock_emul.wire` CLI."""
import json
import subprocess
import sys

from wire_golden import MISS_V4_HEX, ifa_msghdr, sdl, sin

from rtsock_emul.wire import (
    AF_INET,
    IFF_BROADCAST,
    IFF_IPMP,
    IFF_IPV4,
    IFF_MULTICAST,
    IFF_OFFLINE,
    IFF_RUNNING,
    IFF_UP,
    RTA_IFP,
    RTM_IFINFO,
    IfaMsg,
    IfData,
    IfMsghdr,
    RtMsg,
    SockaddrDl,
    encode,
    render,
    to_json,
)

NET0 = SockaddrDl(2, 6, "net0", bytes.fromhex("020c00000a01"))


def test_render_route_message_like_route_monitor():
    msg = RtMsg("RTM_ADD", dst="192.0.2.10", netmask="255.255.255.0", flags=["UP", "DONE"])
    assert render(msg) == (
        "got message of size 108\n"
        "RTM_ADD: Add Route: len 108, pid: 0, seq 0, errno 0, flags:<UP,DONE>\n"
        "locks:  inits: \n"
        "sockaddrs: <DST,NETMASK>\n"
        " 192.0.2.10 255.255.255.0")


def test_render_get_with_metrics_errno_and_link():
    msg = RtMsg("GET", dst="198.51.100.0/24", gateway="192.0.2.1", ifp=NET0, flags=0x843,
                inits=0xF9, errno="ESRCH", pid=77, seq=5)
    assert render(msg).splitlines()[1:] == [
        "RTM_GET: Report Metrics: len 376, pid: 77, seq 5, errno 3, flags:<UP,GATEWAY,DONE,STATIC>",
        "locks:  inits: <rttvar,rtt,ssthresh,sendpipe,recvpipe,mtu>",
        "sockaddrs: <DST,GATEWAY,NETMASK,IFP>",
        " 198.51.100.0 192.0.2.1 255.255.255.0 net0:2.c.0.0.a.1"]


def test_render_ifinfo_uses_route_c_flag_names_and_low_32_bits():
    flags = IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_IPV4 | IFF_OFFLINE | IFF_IPMP
    msg = IfMsghdr(RTM_IFINFO, flags, 2, IfData(ifi_type=6, ifi_mtu=1500), {RTA_IFP: NET0})
    assert render(msg) == (
        "got message of size 336\n"
        "RTM_IFINFO: iface status change: len 336, if# 2, "
        "flags:<UP,BROADCAST,RUNNING,MULTICAST,IPv4,OFFLINE>\n"
        "sockaddrs: <IFP>\n"
        " net0:2.c.0.0.a.1")


def test_render_newaddr_and_date_option():
    msg = IfaMsg("RTM_NEWADDR", 2, "192.0.2.10", 24, NET0, flags="UP")
    text = render(msg, with_date=True)
    first, rest = text.split("\n", 1)
    assert first.startswith("got message of size 320 on ")
    assert rest == ("RTM_NEWADDR: address being brought up on iface: len 320, metric 0, flags:<UP>\n"
                    "sockaddrs: <NETMASK,IFP,IFA,BRD>\n"
                    " 255.255.255.0 net0:2.c.0.0.a.1 192.0.2.10 default")   # routename: INADDR_ANY


def test_render_unknown_request_type_like_route_c():
    assert render(RtMsg(0x20, dst="192.0.2.1")).endswith("routing message type 32 not understood")
    assert render(RtMsg("ADD", version=4)).endswith("routing message version 4 not understood")


def test_to_json_uses_c_names_and_names_for_type_and_slots():
    msg = IfaMsg("RTM_DELADDR", 2, "192.0.2.10", 24, NET0, af=AF_INET)
    out = to_json(msg)
    assert json.loads(json.dumps(out)) == out
    assert out["type"] == "RTM_DELADDR"
    assert (out["ifam_msglen"], out["ifam_addrs"], out["ifam_flags"], out["ifam_index"]) == (320, 0xB4, 0, 2)
    assert out["sockaddrs"] == {
        "RTA_NETMASK": "255.255.255.0",
        "RTA_IFP": {"index": 2, "type": 6, "name": "net0", "lladdr": "02:0c:00:00:0a:01"},
        "RTA_IFA": "192.0.2.10", "RTA_BRD": "0.0.0.0"}
    rt = to_json(RtMsg("ADD", dst="192.0.2.0/24", gateway="192.0.2.1", errno="EEXIST"))
    assert (rt["rtm_msglen"], rt["rtm_errno"], rt["errno"], rt["rtm_rmx"]["rmx_mtu"]) == (124, 17, "EEXIST", 0)


def _cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "rtsock_emul.wire", *args], input=stdin,
                          capture_output=True, text=True, timeout=30)


def test_cli_decode_pasted_hex_with_separators():
    raw = bytes.fromhex(MISS_V4_HEX)
    pasted = "\n".join(":".join(f"{b:02x}" for b in raw[i:i + 16]) for i in range(0, len(raw), 16))
    run = _cli("decode", pasted)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert (out["type"], out["rtm_msglen"], out["rtm_flags"]) == ("RTM_MISS", 92, 0x40)
    assert out["sockaddrs"] == {"RTA_DST": "198.51.100.1"}


def test_cli_render_from_stdin():
    buf = ifa_msghdr(320, 0xC, 0xB4, 1, 2) + sin("255.255.255.0") + sdl(2, 6, "net0", bytes(6)) \
        + sin("192.0.2.10") + sin("0.0.0.0")
    assert encode(IfaMsg("NEWADDR", 2, "192.0.2.10", 24, SockaddrDl(2, 6, "net0", bytes(6)), flags=1)) == buf
    run = _cli("render", "-", stdin=buf.hex(" ", 4))
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[1].startswith("RTM_NEWADDR: address being brought up on iface: len 320")


def test_cli_bad_input_prints_wire_error_and_exits_2():
    run = _cli("decode", MISS_V4_HEX[:-2])
    assert run.returncode == 2 and run.stdout == ""
    assert "rtm_msglen at offset 0: says 92 bytes but the buffer has 91" in run.stderr
    assert "decode(bytes.fromhex('" in run.stderr
    run = _cli("render", "5c00 03 0g")
    assert run.returncode == 2 and "not hex digits" in run.stderr
