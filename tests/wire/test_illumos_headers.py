"""The illumos headers in rtsock_emul/c/include agree with the wire layer: every
struct's size and field offsets, and every constant, checked by _Static_assert in
C generated from wire/structs.py and wire/constants.py (so a drift on either side
fails to compile). Also: PF_ROUTE is illumos' 24 in any include order."""
import shutil
import subprocess

import pytest

import rtsock_emul.c as cside
from rtsock_emul.wire import constants as C
from rtsock_emul.wire import structs as S

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")

INCLUDES = """#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <net/if.h>
#include <net/if_dl.h>
#include <net/if_types.h>
#include <net/route.h>
"""
# The layouts the headers declare (sockaddr and sockaddr_in come from the system
# and agree; Linux's sockaddr_in6 is 28 bytes, not illumos' 32: docs/preload.md).
LAYOUTS = [S.RT_METRICS, S.RT_MSGHDR, S.TIMEVAL32, S.IF_DATA, S.IF_MSGHDR, S.IFA_MSGHDR,
           S.SOCKADDR, S.SOCKADDR_IN, S.SOCKADDR_DL]
TABLES = [C.RTM_NAMES, C.RTA_NAMES, C.RTAX_NAMES, C.RTF_NAMES, C.RTV_NAMES, C.IFF_NAMES,
          C.RTAW_NAMES, C.IFT_NAMES]
SCALARS = ["RTM_VERSION", "RTA_NUMBITS", "RTAX_MAX", "AF_ROUTE", "PF_ROUTE", "AF_LINK",
           "SOL_ROUTE", "RT_AWARE", "SO_USELOOPBACK", "SO_PROTOTYPE", "LIFNAMSIZ", "IFNAMSIZ"]


def assertions() -> str:
    lines = []
    for layout in LAYOUTS:
        lines.append(f"_Static_assert(sizeof (struct {layout.name}) == {layout.size}, "
                     f"\"sizeof struct {layout.name}\");")
        for field, offset in layout.offsets.items():
            lines.append(f"_Static_assert(offsetof(struct {layout.name}, {field}) == {offset}, "
                         f"\"{layout.name}.{field}\");")
    names = {name: value for table in TABLES for value, name in table.items()}
    names |= {name: getattr(C, name) for name in SCALARS}
    for name, value in sorted(names.items()):
        lines.append(f"_Static_assert((unsigned long long)({name}) == {value:#x}ULL, \"{name}\");")
    return "\n".join(lines) + "\n"


def compile_ok(tmp_path, source: str, name="t.c"):
    src = tmp_path / name
    src.write_text(source)
    return subprocess.run(["gcc", "-std=gnu11", "-fsyntax-only", "-Wall", "-Werror",
                           "-I", str(cside.INCLUDE_DIR), str(src)], capture_output=True, text=True)


def test_structs_and_constants_match_the_wire_tables(tmp_path):
    source = INCLUDES + assertions()
    assert source.count("_Static_assert") > 200
    res = compile_ok(tmp_path, source)
    assert res.returncode == 0, res.stderr


def test_a_drifted_table_fails_to_compile(tmp_path):
    """The check can fail: one offset off by two is refused by the compiler."""
    source = INCLUDES + assertions().replace("rtm_flags) == 8,", "rtm_flags) == 10,")
    res = compile_ok(tmp_path, source)
    assert res.returncode != 0 and "rt_msghdr.rtm_flags" in res.stderr


@pytest.mark.parametrize("order", [
    ["sys/socket.h", "net/route.h"], ["net/route.h", "sys/socket.h"],
    ["net/if.h", "net/route.h", "sys/socket.h"], ["netinet/in.h", "net/route.h", "net/if_dl.h"]])
def test_pf_route_is_illumos_24_whatever_the_include_order(tmp_path, order):
    source = "".join(f"#include <{h}>\n" for h in order) + (
        "_Static_assert(PF_ROUTE == 24 && AF_ROUTE == 24, \"PF_ROUTE\");\n"
        "_Static_assert(PF_NETLINK == 16, \"netlink untouched\");\n")
    res = compile_ok(tmp_path, source)
    assert res.returncode == 0, res.stderr


def test_a_file_without_net_route_h_keeps_linux_pf_route(tmp_path):
    res = compile_ok(tmp_path, "#include <sys/socket.h>\n"
                               "_Static_assert(PF_ROUTE == PF_NETLINK, \"Linux alias\");\n")
    assert res.returncode == 0, res.stderr
