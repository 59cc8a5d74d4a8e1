"""send's RTA_IFP forms (R15) and reading the echo of a request the kernel stopped parsing."""
import pytest

from rtsock_emul.scenario.errors import ScenarioError
from rtsock_emul.scenario.loader import load_text
from rtsock_emul.scenario.reader import echo_of_request
from rtsock_emul.scenario.schema import parse_scenario
from rtsock_emul.wire import constants as C
from rtsock_emul.wire import encode
from rtsock_emul.wire.build import RtMsg
from rtsock_emul.wire.sockaddrs import SockaddrIn
from rtsock_emul.wire.structs import RT_MSGHDR

TEXT = """\
name: ifp forms
topology: ipmp-pair
subscribers:
  s: {host: h2}
steps:
  - send: {by: s, msg: {type: RTM_ADD, dst: 198.51.100.0/24, gateway: 192.0.2.254, ifp: IFP}}
"""


def _parse(ifp, tmp_path):
    text = TEXT.replace("IFP", ifp)
    return parse_scenario(load_text(text, str(tmp_path / "s.yaml")), str(tmp_path / "s.yaml"))


@pytest.mark.parametrize("ifp", ["net0", "7", "AF_UNSPEC", "{index: net0, name: nosuch7}", "{index: 9999}"])
def test_R15_ifp_forms_parse(ifp, tmp_path):
    assert _parse(ifp, tmp_path).steps[0].kind == "send"


@pytest.mark.parametrize("ifp, what", [("{name: net0}", "ifp mapping needs index"),
                                       ("{index: net0, nick: x}", "unknown key 'nick' in ifp"),
                                       ("[net0]", "bad ifp")])
def test_bad_ifp_forms_name_the_line(ifp, what, tmp_path):
    with pytest.raises(ScenarioError) as info:
        _parse(ifp, tmp_path)
    assert what in info.value.what and info.value.line == 6


def test_R15_echo_of_request_refused_at_its_ifp_keeps_the_sockaddrs_before_it():
    msg = RtMsg(type="RTM_ADD", dst="203.0.113.0/24", gateway="192.0.2.254", seq=5)
    msg.sockaddrs[C.RTA_IFP] = SockaddrIn("192.0.2.1")
    echo = RT_MSGHDR.patch(encode(msg), rtm_pid=42, rtm_errno=C.to_wire_errno("EINVAL"))
    got = echo_of_request(echo)
    assert (got.rtm_seq, got.rtm_pid, sorted(got.sockaddrs)) == (5, 42, [C.RTA_DST, C.RTA_GATEWAY, C.RTA_NETMASK])
    assert got.trailer == echo[-16:] and got.trailer[:2] == C.AF_INET.to_bytes(2, "little")
    assert echo_of_request(RT_MSGHDR.patch(echo, rtm_pid=0)) is None   # kernel messages have no pid
