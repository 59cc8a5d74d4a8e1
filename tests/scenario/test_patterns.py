"""Pattern keys beyond type, interface, address and flags: author, brd, addrs, inits, len, metric, mtu."""
import pytest

from rtsock_emul.scenario.matcher import IfNames, mismatch
from rtsock_emul.scenario.patterns import PatternError, parse_pattern
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.build import IfaMsg, IfMsg, RtMsg

NAMES = IfNames({2: "net0"})
REDIRECT6 = RtMsg(type="RTM_REDIRECT", dst="2001:db8:9::5", gateway="2001:db8::fe", author="::",
                  flags=["GATEWAY", "HOST", "DONE", "DYNAMIC"])
GET = RtMsg(type="RTM_GET", dst="198.51.100.0/24", gateway="192.0.2.254", seq=3,
            inits=C.RTV_RTT | C.RTV_RTTVAR | C.RTV_SSTHRESH | C.RTV_SPIPE | C.RTV_RPIPE | C.RTV_MTU,
            rmx={"rmx_mtu": 1500})
NEWADDR = IfaMsg("RTM_NEWADDR", 2, "192.0.2.10", "255.255.255.0", (2, "net0"), brd="192.0.2.255", metric=7)
IFINFO = IfMsg(2, C.IFF_UP | C.IFF_RUNNING, (2, "net0"), mtu=1400, metric=3)


def check(text, msg, raw=None):
    return mismatch(parse_pattern(text), msg, NAMES, raw)


def test_R130_author_all_zeros_matches_and_other_author_names_the_difference():
    assert check("RTM_REDIRECT author=::", REDIRECT6) is None
    assert check("RTM_REDIRECT author=2001:db8::1", REDIRECT6) == "author is ::, expected 2001:db8::1"
    assert check("RTM_ADD author=192.0.2.1", RtMsg(dst="10.0.0.0/8", gateway="192.0.2.1")) \
        == "author is None, expected 192.0.2.1"


def test_brd_of_an_address_message():
    assert check("RTM_NEWADDR brd=192.0.2.255", NEWADDR) is None
    assert check("RTM_NEWADDR brd=192.0.2.127", NEWADDR) == "brd is 192.0.2.255, expected 192.0.2.127"


def test_addrs_is_the_exact_set_of_sockaddrs_string_and_list_forms():
    assert check("RTM_REDIRECT addrs=DST,GATEWAY,AUTHOR", REDIRECT6) is None
    assert mismatch(parse_pattern({"type": "RTM_REDIRECT", "addrs": ["RTA_DST", "GATEWAY", "AUTHOR"]}),
                    REDIRECT6, NAMES) is None
    assert check("RTM_REDIRECT addrs=DST,GATEWAY", REDIRECT6) \
        == "addrs is DST,GATEWAY,AUTHOR, expected DST,GATEWAY"
    assert check("RTM_NEWADDR addrs=NETMASK,IFP,IFA,BRD", NEWADDR) is None


def test_R80_inits_compares_the_whole_rtm_inits_word():
    assert check("RTM_GET inits=RTT,RTTVAR,SSTHRESH,SPIPE,RPIPE,MTU", GET) is None
    why = check("RTM_GET inits=RTT,RTTVAR,SSTHRESH,SPIPE,RPIPE", GET)
    assert why == "inits is MTU,RPIPE,SPIPE,SSTHRESH,RTT,RTTVAR, expected RPIPE,SPIPE,SSTHRESH,RTT,RTTVAR"
    assert check("RTM_ADD inits=none", RtMsg(dst="10.0.0.0/8", gateway="192.0.2.1")) is None


def test_len_is_the_bytes_read_or_the_encoded_length():
    assert check(f"RTM_GET len={len(GET.encode())}", GET) is None
    assert check("RTM_GET len=76", GET) == f"len is {len(GET.encode())}, expected 76"
    assert check("RTM_GET len=80", GET, raw=bytes(80)) is None


def test_metric_of_address_and_interface_messages():
    assert check("RTM_NEWADDR metric=7", NEWADDR) is None
    assert check("RTM_IFINFO metric=3", IFINFO) is None
    assert check("RTM_IFINFO metric=0", IFINFO) == "metric is 3, expected 0"


def test_mtu_of_ifinfo_and_route_messages():
    assert check("RTM_IFINFO net0 mtu=1400", IFINFO) is None
    assert check("RTM_GET mtu=1500", GET) is None
    assert check("RTM_IFINFO mtu=1500", IFINFO) == "mtu is 1400, expected 1500"


@pytest.mark.parametrize("text, what", [
    ("RTM_ADD metric=1", "metric= does not apply to RTM_ADD"),
    ("RTM_NEWADDR mtu=1500", "mtu= does not apply to RTM_NEWADDR"),
    ("RTM_IFINFO inits=MTU", "inits= does not apply to RTM_IFINFO"),
    ("RTM_GET inits=SENDPIPE", "bad inits name 'SENDPIPE'"),
    ("RTM_GET addrs=DST,BOGUS", "bad addrs name 'BOGUS'"),
    ("RTM_GET len=long", "len must be a number"),
    ("RTM_ADD author=nowhere", "bad author"),
])
def test_bad_new_keys_are_refused_with_the_reason(text, what):
    with pytest.raises(PatternError) as info:
        parse_pattern(text)
    assert what in info.value.what
