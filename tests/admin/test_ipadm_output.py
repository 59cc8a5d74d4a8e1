"""ipadm as illumos prints and refuses: print_si_cb / print_sa_cb columns,
i_ipadm_active_addr_info states, i_ipadm_update_ipmp's checks, do_show_addr's
errors, do_create_addr's wording, the `standby` interface property."""


def pair(lab):
    lab.run("ipadm create-ipmp -i net0,net1 ipmp0")
    lab.run("ipadm create-addr -T static -a 192.0.2.10/24 ipmp0/v4")
    lab.settle()


def test_show_if_columns_and_persistent_flags(lab):
    """print_si_cb: IFNAME STATE CURRENT PERSISTENT; PERSISTENT is s/4/6 of what ipadm stored."""
    pair(lab)
    lab.run("ipadm create-ipmp -t ipmp1")
    out = lab.out("ipadm show-if")
    assert out.splitlines()[0] == "IFNAME     STATE    CURRENT      PERSISTENT"
    assert "ipmp0      ok       bm--I-----46 -46\n" in out
    assert "net2       down     bm--------46 ---\n" in out
    assert "ipmp1      failed   bm--I-----46 ---\n" in out     # -t: nothing stored; no member: not RUNNING


def test_show_addr_current_and_persistent_fields(lab):
    pair(lab)
    lab.run("ipadm create-addr -t -T static -a 192.0.2.21/24 net0/test")
    lab.settle()
    out = lab.out("ipadm show-addr -o addrobj,state,current,persistent,addr")
    assert "ipmp0/v4          ok           U----   U--        192.0.2.10/24\n" in out
    assert "net0/test         ok           U---d   ---        192.0.2.21/24\n" in out   # a test address
    assert lab.out("ipadm show-addr -p -o addrobj,current net0/test") == "net0/test:U---d\n"


def test_show_addr_interface_filter_and_missing_objects_are_errors(lab):
    pair(lab)
    lab.run("ipadm create-addr -T static -a 192.0.2.21/24 net0/test")
    out = lab.out("ipadm show-addr net0/")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["net0/test", "net0/?"]
    assert lab.run("ipadm show-addr net9/", ok=False)[1:] == (
        "", "ipadm: Could not get address: Interface does not exist\n")
    assert lab.run("ipadm show-addr net0/nope", ok=False)[2] == "ipadm: Address object not found\n"
    assert lab.run("ipadm show-addr net0", ok=False)[2] == (
        "ipadm: Invalid address object name provided\n")
    assert lab.run("ipadm show-addr -p", ok=False)[2] == "ipadm: -p requires -o\n"
    assert lab.run("ipadm show-if net9", ok=False)[2] == (
        "ipadm: Could not get interface(s): Interface does not exist\n")
    assert lab.run("ipadm delete-addr net0/nope", ok=False)[2] == (
        "ipadm: could not delete address: Object not found\n")
    assert lab.run("ipadm up-addr net0/nope", ok=False)[2] == (
        "ipadm: Could not mark the address up: Object not found\n")


def test_bare_ipadm_is_show_addr(lab):
    pair(lab)
    assert lab.out("ipadm") == lab.out("ipadm show-addr")
    assert "ipmp0/v4" in lab.out("ipadm")


def test_up_address_without_running_is_inaccessible(lab):
    """i_ipadm_active_addr_info: UP but not RUNNING is inaccessible, never tentative."""
    lab.kernel.link_change("net2", False)
    lab.settle()
    lab.run("ipadm create-addr -T static -a 198.51.100.9/24 net2/v4")
    assert "net2/v4           static   inaccessible 198.51.100.9/24\n" in lab.out("ipadm show-addr")
    assert lab.out("ipadm show-if -p -o ifname,state net2") == "net2:failed\n"


def test_update_ipmp_checks(lab):
    """i_ipadm_update_ipmp: not an IP interface -> IPADM_OP_DISABLE_OBJ; already under
    IPMP -> IPADM_IF_INUSE; not an IPMP interface or not a member -> IPADM_INVALID_ARG."""
    pair(lab)
    assert lab.run("ipadm add-ipmp -i net9 ipmp0", ok=False)[2] == (
        "ipadm: cannot add net9 to ipmp0: Operation not supported on disabled object\n")
    assert lab.run("ipadm create-ipmp -i net9 ipmp1", ok=False)[2] == (
        "ipadm: cannot add net9 to ipmp1: Operation not supported on disabled object\n")
    assert lab.run("ipadm add-ipmp -i net0 ipmp0", ok=False)[2] == (
        "ipadm: cannot add net0 to ipmp0: Interface already in use\n")
    assert lab.run("ipadm add-ipmp -i net2 net1", ok=False)[2] == (
        "ipadm: cannot add net2 to net1: Invalid argument provided\n")
    assert lab.run("ipadm remove-ipmp -i net2 ipmp0", ok=False)[2] == (
        "ipadm: cannot remove net2 from ipmp0: Invalid argument provided\n")


def test_create_addr_wording(lab):
    """do_create_addr / process_static_addrargs."""
    assert lab.run("ipadm create-addr -T static -a zz net2/a", ok=False)[2] == (
        "ipadm: Error in setting local address: Invalid address\n")
    assert lab.run("ipadm create-addr -T static -a 1.2.3.4/24 net2", ok=False)[2].startswith(
        "ipadm: invalid address object name: net2\nusage:")
    assert lab.run("ipadm create-addr -T bogus net2/a", ok=False)[2] == (
        "ipadm: Invalid address type bogus\n")
    lab.run("ipadm create-addr -T static -a 1.2.3.4/24 net2/a")
    assert lab.run("ipadm create-addr -T static -a 1.2.3.5/24 net2/a", ok=False)[2] == (
        "ipadm: Could not create address: Address object already exists\n")


def test_standby_interface_property(lab):
    """set-ifprop -p standby=on -m ip: IFF_STANDBY, in.mpathd makes it INACTIVE; stored as 's'."""
    pair(lab)
    lab.run("ipadm set-ifprop -p standby=on -m ip net1")
    lab.settle()
    assert "net1       ok       bm---si---46 s--\n" in lab.out("ipadm show-if")
    assert "net1        no      ipmp0       is-----" in lab.out("ipmpstat -i")
    lab.run("ipadm reset-ifprop -p standby -m ip net1")
    lab.settle()
    assert "net1       ok       bm--------46 ---\n" in lab.out("ipadm show-if")
    assert lab.run("ipadm set-ifprop -p standby=on -m ipv4 net1", ok=False)[2] == (
        "ipadm: set-ifprop: standby: Incorrect protocol family for operation\n")
    assert lab.run("ipadm set-ifprop -p bogus=1 -m ip net1", ok=False)[2] == (
        "ipadm: set-ifprop: bogus: Unknown property\n")
