"""Admin verbs against the real kernel model (ipmpstat.c, ifconfig.c, ipadm(8), if_mpadm.c; R66-R74, R121-R126)."""
from rtsock_emul.wire.constants import (
    IFF_FAILED,
    IFF_OFFLINE,
    RTM_ADD,
    RTM_DELADDR,
    RTM_DELETE,
    RTM_IFINFO,
    RTM_NEWADDR,
)


def ipmp_pair(lab):
    lab.run("ipadm create-ipmp -i net0,net1 ipmp0")
    lab.run("ipadm create-addr -T static -a 192.0.2.10/24 ipmp0/v4")
    lab.settle()


def test_R124_ipmpstat_g_text(lab):
    """R124: -g columns and widths; active members unbracketed."""
    ipmp_pair(lab)
    assert lab.out("ipmpstat -g") == (
        "GROUP       GROUPNAME   STATE     FDT       INTERFACES\n"
        "ipmp0       ipmp0       ok        --        net0 net1\n")


def test_R123_R125_ipmpstat_i_text(lab):
    """R123/R125: FLAGS i s m b M d h; LINK, PROBE disabled without test addresses."""
    ipmp_pair(lab)
    assert lab.out("ipmpstat -i") == (
        "INTERFACE   ACTIVE  GROUP       FLAGS     LINK      PROBE     STATE\n"
        "net0        yes     ipmp0       --mbM--   up        disabled  ok\n"
        "net1        yes     ipmp0       -------   up        disabled  ok\n")


def test_R124_R126_failure_shows_bracketed_and_outbound(lab):
    """R124/R126: a failed member is [unusable]; OUTBOUND lists active members only."""
    ipmp_pair(lab)
    lab.kernel.link_change("net0", False)
    lab.settle()
    assert lab.out("ipmpstat -o groupname,state,interfaces -g").splitlines()[1] == \
        "ipmp0       degraded  net1 [net0]"
    row = lab.out("ipmpstat -a").splitlines()[1].split()
    assert row == ["192.0.2.10", "up", "ipmp0", "net1", "net1"]
    assert lab.out("ipmpstat -P -o interface,state -i") == "net0:failed\nnet1:ok\n"


def test_ipmpstat_parsable_escaping(lab):
    """ipmpstat -P separates with ':' and escapes ':' and '\\'; one field is not escaped."""
    ipmp_pair(lab)
    lab.run("ipadm create-addr -T static -a 2001:db8::10/64 ipmp0/v6")
    lab.settle()
    out = lab.out("ipmpstat -P -o address,state -a")
    assert "2001\\:db8\\:\\:10:up\n" in out
    assert "2001:db8::10\n" in lab.out("ipmpstat -P -o address -a")


def test_ipmpstat_usage_errors(lab):
    rc, out, err = lab.run("ipmpstat -P -g", ok=False)
    assert rc == 1 and err == "ipmpstat: output fields must be specified in parsable mode\n"
    rc, out, err = lab.run("ipmpstat -x", ok=False)
    assert rc == 2 and "usage: ipmpstat" in err and "-a|-g|-i|-p|-t" in err
    rc, out, err = lab.run("ipmpstat -g -i", ok=False)
    assert err == "ipmpstat: only one output format may be specified\n"
    rc, out, err = lab.run("ipmpstat -o bogus,group -g", ok=False)
    assert rc == 0 and "ignoring unknown output field: `bogus'" in err


def test_unknown_verb_and_privilege(lab):
    rc, out, err = lab.run("frobnicate", ok=False)
    assert rc == 2 and "unknown verb 'frobnicate'" in err and "ipadm" in err
    rc, out, err = lab.run("ipadm create-ipmp ipmp0", uid=1000, ok=False)
    assert rc == 1 and err == "ipadm: insufficient privileges\n"
    rc, out, err = lab.run("ipadm frob", ok=False)
    assert rc == 2 and "unknown subcommand 'frob'" in err


def test_ipadm_create_addr_in_use(lab):
    ipmp_pair(lab)
    rc, out, err = lab.run("ipadm create-addr -T static -a 192.0.2.10/24 net2/v4", ok=False)
    assert err == "ipadm: Could not create address: Address already in use\n"   # do_create_addr


def test_R121_if_mpadm_offline_refused_then_done(lab):
    """R121: no other usable member -> the illumos message; else OFFLINE, addresses down."""
    ipmp_pair(lab)
    lab.kernel.link_change("net1", False)
    lab.settle()
    rc, out, err = lab.run("if_mpadm -d net0", ok=False)
    assert err == ("if_mpadm: fatal: cannot offline net0: no other functioning interfaces "
                   "are in its IPMP group\n")
    lab.kernel.link_change("net1", True)
    lab.settle()
    lab.run("if_mpadm -d net0")
    assert lab.kernel.flags("net0", 2) & IFF_OFFLINE
    assert "net0        no      ipmp0       -----d-   up        disabled  offline" in \
        lab.out("ipmpstat -i")
    rc, out, err = lab.run("if_mpadm -d net0", ok=False)
    assert err == "if_mpadm: fatal: interface net0 is already offline\n"


def test_R122_if_mpadm_undo_offline(lab):
    """R122: -r fails unless OFFLINE; brings addresses up and clears OFFLINE."""
    ipmp_pair(lab)
    rc, out, err = lab.run("if_mpadm -r net0", ok=False)
    assert err == "if_mpadm: fatal: interface net0 is not offline\n"
    lab.run("if_mpadm -d net0")
    lab.run("if_mpadm -r net0")
    lab.settle()
    assert not lab.kernel.flags("net0", 2) & (IFF_OFFLINE | IFF_FAILED)
    assert "net0 net1" in lab.out("ipmpstat -g")


def test_ifconfig_display_format(lab):
    lab.run("ifconfig net2 192.0.2.50/24 up")
    lab.settle()
    out = lab.out("ifconfig net2 inet")
    assert out.startswith("net2: flags=1000843<UP,BROADCAST,RUNNING,MULTICAST,IPv4> mtu 1500 index 3\n"
                          "\tinet 192.0.2.50 netmask ffffff00 broadcast 192.0.2.255\n")


def _summary(msgs):
    names = {RTM_IFINFO: "IFINFO", RTM_NEWADDR: "NEWADDR", RTM_ADD: "ADD",
             RTM_DELETE: "DELETE", RTM_DELADDR: "DELADDR"}
    out = []
    for m in msgs:
        t = getattr(m, "rtm_type", None) or getattr(m, "ifm_type", None) or getattr(m, "ifam_type", None)
        idx = getattr(m, "rtm_index", None) or getattr(m, "ifm_index", None) or getattr(m, "ifam_index", None)
        out.append((names.get(t, t), idx))
    return out


def test_R69_ifconfig_group_join_stream_for_normal_sockets(lab):
    """R69/R70: join with an UP data address: down messages on net2 for everyone,
    then the address comes back on the (implicitly created) IPMP interface."""
    lab.run("ifconfig net2 192.0.2.50/24 up")
    lab.settle()
    lab.normal.clear()
    lab.run("ifconfig net2 group g1")
    lab.settle()
    got = _summary(lab.normal)
    net2 = lab.kernel.ifindex("net2")
    ipmp = lab.kernel.ifindex("ipmp0")
    assert got[:3] == [("IFINFO", net2), ("DELETE", net2), ("DELADDR", net2)]
    assert ("NEWADDR", ipmp) in got and ("ADD", ipmp) in got
    assert not any(idx == net2 for _, idx in got[3:])
    assert "192.0.2.50" in lab.out("ifconfig ipmp0")
    assert "groupname g1" in lab.out("ifconfig ipmp0")


def test_R67_ifconfig_group_error_text(lab):
    """R67: kernel refusals read like ifconfig's setifgroupname errors."""
    lab.run("ipadm create-ipmp ipmp0")
    rc, out, err = lab.run("ifconfig ipmp0 group \"\"", ok=False)
    assert err == "ifconfig: setifgroupname: SIOCSLIFGROUPNAME: ipmp0: Invalid argument\n"


def test_if_mpadm_messages_as_if_mpadm_c(lab):
    """if_mpadm.c: usage(), die()'s `fatal:` prefix, is_offline's message for a name
    that is not an IP interface, ipmp_offline's refusal for a non-member."""
    assert lab.run("if_mpadm", ok=False) == (1, "", "Usage: if_mpadm [-d | -r] <interface>\n")
    assert lab.run("if_mpadm -x net0", ok=False)[0::2] == (1, "Usage: if_mpadm [-d | -r] <interface>\n")
    assert lab.run("if_mpadm -d net9", ok=False)[2] == (
        "if_mpadm: fatal: cannot get interface flags on net9: No such device or address\n")
    assert lab.run("if_mpadm -d net2", ok=False)[2] == (
        "if_mpadm: fatal: cannot offline net2: not a physical interface or not in an IPMP group\n")
    ipmp_pair(lab)
    assert lab.run("if_mpadm -d net0", uid=1000, ok=False)[2] == (
        "if_mpadm: fatal: cannot offline net0: permission denied\n")


def _probing_pair(lab):
    """ipmp0 over net0 (with a test address and one answering target) and net1."""
    import ipaddress
    ipmp_pair(lab)
    target = ipaddress.ip_address("192.0.2.1")
    lab.prober.multicast[("net0", 2)] = [target]
    lab.prober.answer("net0", 2, [target])
    lab.run("ipadm create-addr -T static -a 192.0.2.21/24 net0/test")
    lab.settle(20)


def test_ipmpstat_p_streams_from_its_own_start_with_one_header(lab):
    """probe_output: rows as probes end, TIME from ipmpstat's start, ofmt's header once;
    the stream ends quietly when the agent goes."""
    import io

    from rtsock_emul.admin.dispatch import run_verb
    from rtsock_emul.admin.ipmpstream import stream
    _probing_pair(lab)
    assert lab.out("ipmpstat -p").startswith("TIME      INTERFACE")     # the snapshot view
    calls = []

    def admin(argv):
        calls.append(argv)
        if len(calls) > 40:
            raise ConnectionRefusedError(111, "agent gone")
        lab.settle(0.5)                      # time passes between asks
        return run_verb(lab.ctx, argv, 0)
    out, err = io.StringIO(), io.StringIO()
    assert stream(admin, ["-p"], out, err) == 0 and err.getvalue() == ""
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("TIME      INTERFACE   PROBE  NETRTT    RTT       RTTAVG")
    assert sum(line.startswith("TIME") for line in lines) == 1 and len(lines) > 3
    times = [float(line.split()[0].rstrip("s")) for line in lines[1:]]
    assert times == sorted(times) and 0 < times[0] < 20 and times[-1] < 21   # not since in.mpathd began
    assert all(line.split()[1] == "net0" for line in lines[1:])


def test_ipmpstat_p_refusals_come_back_from_the_stream(lab):
    import io

    from rtsock_emul.admin.dispatch import run_verb
    from rtsock_emul.admin.ipmpstream import stream, wants_stream
    ipmp_pair(lab)
    err = io.StringIO()
    assert stream(lambda argv: run_verb(lab.ctx, argv, 0), ["-p"], io.StringIO(), err) == 1
    assert err.getvalue() == "ipmpstat: probe-based failure detection is disabled\n"
    assert wants_stream(["-p"]) and wants_stream(["-n", "-P", "-o", "time", "-p"])
    assert not wants_stream(["-g"]) and not wants_stream(["-p", "-g"]) and not wants_stream(["-p", "x"])


def test_ofmt_prints_no_header_without_rows(lab):
    """ofmt_print prints the header with the first row: no group, no output."""
    assert lab.run("ipmpstat -g") == (0, "", "")
    assert lab.run("ipmpstat -a") == (0, "", "")


def test_ifconfig_display_as_ifstatus_and_in_status(lab):
    """ifconfig.c: no argument is -a; `ifconfig IF` is the IPv4 lif (+ ether, no family
    named); in_status/in6_status leave a trailing space when no broadcast follows;
    groupname on the physical interface; print_flags spells CoS and keeps if_flags_tbl order."""
    ipmp_pair(lab)
    lab.run("ifconfig net2 192.0.2.50/24 up")
    lab.settle()
    assert lab.out("ifconfig") == lab.out("ifconfig -a")
    assert lab.out("ifconfig net0") == (
        "net0: flags=1000843<UP,BROADCAST,RUNNING,MULTICAST,IPv4> mtu 1500 index 1\n"
        "\tinet 0.0.0.0 netmask 0 \n\tgroupname ipmp0\n\tether 2:0:0:0:0:1 \n")
    assert lab.out("ifconfig net0 inet6") == (
        "net0: flags=2000841<UP,RUNNING,MULTICAST,IPv6> mtu 1500 index 1\n"
        "\tinet6 fe80::ff:fe00:1/10 \n\tgroupname ipmp0\n")
    assert "\tinet 192.0.2.50 netmask ffffff00 broadcast 192.0.2.255\n\tether 2:0:0:0:0:3 \n" in \
        lab.out("ifconfig -a")
    assert "ether" not in lab.out("ifconfig ipmp0") and "ether" not in lab.out("ifconfig -a inet")
    assert "ether" not in lab.out("ifconfig net2", uid=1000)          # dlpi_open needs privilege
    six = lab.out("ifconfig -a6")
    assert "IPv4" not in six and six.count(",IPv6") == 4
    assert lab.run("ifconfig -u", ok=False)[2] == "ifconfig: -u: no such interface\n"
    assert lab.run("ifconfig net9", ok=False)[2] == (
        "ifconfig: status: SIOCGLIFFLAGS: net9: no such interface\n")
    from rtsock_emul.admin.ifdisplay import flag_names
    from rtsock_emul.wire.constants import IFF_COS_ENABLED, IFF_NOACCEPT, IFF_UP, IFF_VRRP
    assert flag_names(IFF_UP | IFF_COS_ENABLED | IFF_NOACCEPT | IFF_VRRP) == "UP,CoS,VRRP,NOACCEPT"
