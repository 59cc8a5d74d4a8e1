"""ifconfig(1M): the IPMP-relevant commands (illumos ifconfig.c).

`ifconfig IF[:N] [inet|inet6] CMD...` runs the commands left to right as
ifconfig does; after `addif` the following commands apply to the new
logical interface. `ifconfig IF` / `ifconfig -a` display.
"""
from __future__ import annotations

import errno
import ipaddress

from ..context import AgentContext
from ..kernel.errors import KernelError
from ..mpathd import kview
from ..platform import NoDatalink
from ..wire.constants import (
    AF_INET,
    AF_INET6,
    IFF_DEPRECATED,
    IFF_DHCPRUNNING,
    IFF_IPV4,
    IFF_IPV6,
    IFF_NOARP,
    IFF_NOFAILOVER,
    IFF_ROUTER,
    IFF_STANDBY,
    IFF_UP,
)
from . import groupflow
from .common import DLPI_FAILURE, IF_EXISTS, AdminError, Usage, need_root, strerror, sync_mpathd
from .ifdisplay import lookup, show

PROG = "ifconfig"
USAGE = ("usage: ifconfig [ <interface> | -a[ 4 | 6 | u | d ] ] [ inet | inet6 ]\n"
         "\t[ plumb | unplumb | ipmp ] [ group <name> | group \"\" ]\n"
         "\t[ standby | -standby ] [ failover | -failover ] [ deprecated | -deprecated ]\n"
         "\t[ router | -router ] [ arp | -arp ]\n"
         "\t[ <address>[/<prefix_length>] [ netmask <mask> ] [ broadcast + ] ]\n"
         "\t[ addif <address>[/<prefix_length>] ] [ removeif <address> ] [ up | down ]")

# flag words: (set, clear) and the ioctl family name for errors
FLAG_WORDS = {
    "up": (IFF_UP, 0), "down": (0, IFF_UP),
    "deprecated": (IFF_DEPRECATED, 0), "-deprecated": (0, IFF_DEPRECATED),
    "-failover": (IFF_NOFAILOVER | IFF_DEPRECATED, 0), "failover": (0, IFF_NOFAILOVER),
    "standby": (IFF_STANDBY, 0), "-standby": (0, IFF_STANDBY),
    # IFF_ROUTER: the kernel spreads it over the IPMP group (R133, R134)
    "router": (IFF_ROUTER, 0), "-router": (0, IFF_ROUTER),
    "arp": (0, IFF_NOARP), "-arp": (IFF_NOARP, 0),
}


def _ioctl_error(ioctl: str, name: str, exc, func: str = "") -> AdminError:
    prefix = f"{PROG}: {func}: " if func else f"{PROG}: "
    return AdminError(f"{prefix}{ioctl}: {name}: {strerror(exc)}")


def _parse_addr(text: str, af: int | None):
    try:
        if "/" in text:
            iface = ipaddress.ip_interface(text)
            return iface.ip, iface.network.prefixlen
        return ipaddress.ip_address(text), None
    except ValueError:
        raise AdminError(f"{PROG}: {text}: bad address") from None


# ifconfig words that take a value, and what the value is (for the usage error)
ARG_WORDS = {"group": "group name", "addif": "address", "removeif": "address", "netmask": "mask"}


class _Run:
    def __init__(self, ctx: AgentContext, lifname: str, af: int | None):
        self.ctx, self.k = ctx, ctx.kernel
        self.lifname, self.af_given = lifname, af
        self.ifname = lifname.split(":")[0]
        self.notes: list[str] = []      # said on stdout after the line ran (ifconfig's "Created new ...")
        self.errs: list[str] = []       # non-fatal errors of earlier words on the line

    @property
    def af(self) -> int:
        if self.af_given is not None:
            return self.af_given
        return AF_INET

    def flags(self, setb, clearb, word: str):
        try:
            new = self.k.set_flags(self.lifname, self.af, set=setb, clear=clearb)
            if isinstance(new, str):
                self.lifname = new
        except KernelError as exc:
            raise _ioctl_error("SIOCSLIFFLAGS", self.lifname, exc) from None
        if word in ("standby", "-standby"):
            if self.ctx.mpathd is not None:
                self.ctx.mpathd.on_standby_changed(self.ifname)

    def run(self, words: list[str]) -> None:
        i = 0
        while i < len(words):
            w = words[i]
            arg = words[i + 1] if i + 1 < len(words) else None
            i += 1
            if w in ARG_WORDS:                      # these words take the next one as their value
                if arg is None:
                    raise Usage(f"{PROG}: {w}: missing {ARG_WORDS[w]}\n{USAGE}")
                i += 1
            value = arg or ""                       # the value of an ARG_WORDS word (checked above)
            if w in FLAG_WORDS:
                self.flags(*FLAG_WORDS[w], w)
            elif w == "plumb":
                self.plumb(ipmp=False)
            elif w == "ipmp":
                self.plumb(ipmp=True)
            elif w == "unplumb":
                try:
                    self.k.unplumb(self.ifname, self.af)
                except KernelError as exc:
                    raise _ioctl_error("SIOCLIFREMOVEIF", self.ifname, exc) from None
            elif w == "group":
                self.group(value)
            elif w == "addif":
                addr, plen = _parse_addr(value, self.af_given)
                try:
                    self.lifname = self.k.addif(self.ifname, self._af_of(addr), addr, plen)
                except KernelError as exc:
                    raise _ioctl_error("SIOCLIFADDIF", self.ifname, exc) from None
                self.af_given = self._af_of(addr)
                print_created = f"Created new logical interface {self.lifname}\n"
                self.notes.append(print_created)
            elif w == "removeif":
                self.removeif(value)
            elif w == "netmask":
                self.netmask(value)
            elif w == "broadcast":
                i += 1 if arg is not None else 0          # broadcast + : derived from netmask
            elif w[:1].isdigit() or ":" in w or "/" in w:
                addr, plen = _parse_addr(w, self.af_given)
                self.af_given = self._af_of(addr)
                try:
                    self.k.set_addr(self.lifname, self.af, addr, plen)
                except KernelError as exc:
                    raise _ioctl_error("SIOCSLIFADDR", self.lifname, exc) from None
            else:
                raise Usage(f"{PROG}: unknown command '{w}'\n{USAGE}")

    @staticmethod
    def _af_of(addr) -> int:
        return AF_INET if addr.version == 4 else AF_INET6

    def plumb(self, ipmp: bool) -> None:
        try:
            groupflow.plumb_like_platform(self.ctx, self.ifname, self.af, ipmp=ipmp)
        except NoDatalink:
            raise AdminError(f"{PROG}: cannot plumb {self.ifname}: {DLPI_FAILURE}") from None
        except KernelError as exc:
            if exc.errno == errno.EEXIST and not ipmp:
                # inetplumb: IPADM_IF_EXISTS is said, and the line goes on
                self.errs.append(f"{PROG}: cannot plumb {self.ifname}: {IF_EXISTS}\n")
                return
            if exc.errno == errno.EEXIST:
                raise AdminError(f"{PROG}: SIOCSLIFNAME for ip: {self.ifname}: "
                                 "already exists") from None
            raise _ioctl_error("SIOCSLIFNAME", self.ifname, exc) from None

    def group(self, name: str) -> None:
        try:
            if self.lifname != self.ifname and not self.lifname.endswith(":0"):
                self.k.set_groupname(self.lifname, self.af, name)   # the kernel refuses a unit (R67)
            elif kview.is_ipmp(self.k, self.ifname):
                self.k.set_groupname(self.ifname, self.af, name)     # rename (R74)
            elif name in ("", '""'):
                groupflow.leave(self.ctx, self.ifname, self.af)
            else:
                groupflow.join(self.ctx, self.ifname, name, self.af)
        except KernelError as exc:
            raise _ioctl_error("SIOCSLIFGROUPNAME", self.lifname, exc, "setifgroupname") from None

    def removeif(self, text: str) -> None:
        addr, _ = _parse_addr(text, self.af_given)
        for row in kview.lifs(self.k, self._af_of(addr)):
            if row.ifname == self.ifname and row.addr == addr:
                try:
                    self.k.removeif(row.name, row.af)
                except KernelError as exc:
                    raise _ioctl_error("SIOCLIFREMOVEIF", row.name, exc) from None
                return
        raise AdminError(f"{PROG}: SIOCLIFREMOVEIF: {self.ifname}: "
                         "Cannot assign requested address")

    def netmask(self, text: str) -> None:
        row = kview.lif(self.k, self.lifname, self.af)
        if row is None:
            raise AdminError(f"{PROG}: SIOCSLIFNETMASK: {self.lifname}: No such device or address")
        if text == "+":
            plen = row.network().prefixlen if row.prefixlen else 24
        else:
            try:
                plen = ipaddress.ip_network(f"0.0.0.0/{text}" if "." in text else
                                            f"0.0.0.0/{int(text, 16) if text.startswith('0x') else text}",
                                            strict=False).prefixlen
            except ValueError:
                raise AdminError(f"{PROG}: {text}: bad netmask") from None
        try:
            self.k.set_addr(self.lifname, self.af, row.addr, plen)
        except KernelError as exc:
            raise _ioctl_error("SIOCSLIFNETMASK", self.lifname, exc) from None


def _all_options(name: str):
    """main's `-a[udDZ46vX]`: (onflags, offflags); an option name without `a`
    is not an interface (`ifconfig: -u: no such interface`)."""
    on = off = 0
    for c in name[1:]:
        if c not in "audhDXZ46v" or c == "h":
            raise Usage(USAGE)
        on |= {"u": IFF_UP, "4": IFF_IPV4, "6": IFF_IPV6}.get(c, 0)
        off |= {"d": IFF_UP, "D": IFF_DHCPRUNNING}.get(c, 0)
    if "a" not in name:
        raise AdminError(f"{PROG}: {name}: no such interface")
    return on, off


def run(ctx: AgentContext, args: list[str], uid: int) -> tuple[int, str, str]:
    args = args or ["-a"]                   # main: no argument is `ifconfig -a`
    target, rest = args[0], args[1:]
    af = None
    if rest and rest[0] in ("inet", "inet6"):
        af = AF_INET if rest[0] == "inet" else AF_INET6
        rest = rest[1:]
    if target.startswith("-"):
        onflags, offflags = _all_options(target)
        if rest:
            raise Usage(f"{PROG}: -a takes no commands\n{USAGE}")
        return 0, show(ctx.kernel, None, af, uid, onflags, offflags), ""
    if not rest:
        if lookup(ctx.kernel, target, af or AF_INET) is None:
            raise AdminError(f"{PROG}: status: SIOCGLIFFLAGS: {target}: no such interface")
        return 0, show(ctx.kernel, target, af, uid), ""
    need_root(PROG, uid)
    runner = _Run(ctx, target, af)
    try:
        runner.run(rest)
    except AdminError as exc:
        exc.text = "".join(runner.errs) + exc.text
        raise
    finally:
        sync_mpathd(ctx)
    return 0, "".join(runner.notes), "".join(runner.errs)


# docs/commands.md (admin/reference.py): what the display follows, and what differs
FOLLOWS = [
    ("`ifconfig` alone is `ifconfig -a`; -a takes 4, 6, u, d", "ifconfig.c main"),
    ("`ifconfig IF` shows the IPv4 logical interface (`inet6` for the IPv6 one); `-a` shows "
     "every logical interface, IPv4 first", "ifconfig.c main, foreachinterface, status"),
    ("`IF: flags=HEX<NAMES> mtu N index I`, names in if_flags_tbl's order and spelling (DHCP, "
     "CoS, IPv4, IPMP, NOACCEPT last)", "ifconfig.c ifstatus, print_flags"),
    ("`\\tinet A netmask M broadcast B` / `\\tinet6 A/P `: a trailing space where nothing "
     "follows; `groupname` on the physical interface of each family", "ifconfig.c in_status, in6_status"),
    ("`\\tether MAC ` only when no address family was named, for root, not on IPMP or virtual "
     "interfaces", "ifconfig.c print_ifether; libdlpi dlpi_print_address"),
]
DIFFERENCES = [
    "no `zone`, `srcof`/`usesrc` or `metric` parts in the status line (the lab has "
    "none of them); -D, -Z, -v and -X are accepted and change nothing.",
]
