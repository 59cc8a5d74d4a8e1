"""Topology files: the shipped ones load; every error names file:line and what to fix."""
import textwrap

import pytest

from rtsock_emul.lab import TopologyError, naming
from rtsock_emul.lab.topology import load


def write(tmp_path, text, name="t.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(path):
    with pytest.raises(TopologyError) as info:
        load(path)
    return str(info.value)


@pytest.mark.parametrize("name", ["ipmp-pair", "ipmp-triple", "two-lans"])
def test_shipped_topologies_load(name):
    topo = load(name)
    assert topo.name == name
    for host, intf in topo.links():
        assert intf.switch in topo.switches
        assert len(naming.port_name("ffff", host, intf.name)) <= naming.MAX_IFNAME


def test_ipmp_pair_is_the_design_example():
    topo = load("ipmp-pair")
    assert list(topo.hosts["h1"].interfaces) == ["net0", "net1"]
    assert [str(a) for a in topo.hosts["h2"].interfaces["net0"].addresses] == ["192.0.2.1/24", "2001:db8::1/64"]


def test_two_lans_router_and_route():
    topo = load("two-lans")
    assert topo.hosts["r1"].options == {"forwarding": True}
    assert topo.hosts["h2"].routes[0].gateway == "198.51.100.254"
    assert {i.switch for i in topo.hosts["h1"].interfaces.values()} == {"s1", "s2"}


def test_unknown_switch_names_file_line_and_choices(tmp_path):
    path = write(tmp_path, """\
        name: x
        switches: [s1]
        hosts:
          h1:
            interfaces:
              net0: s1
              net1: s9
        """)
    assert error_of(path).endswith(
        f"{path}:7: host h1 interface net1: unknown switch s9 (switches are: s1)")


def test_unknown_key_at_its_line(tmp_path):
    path = write(tmp_path, """\
        name: x
        switches: [s1]
        hosts:
          h1: {interfaces: {net0: {switch: s1, adresses: [192.0.2.1/24]}}}
        """)
    text = error_of(path)
    assert f"{path}:4:" in text and "unknown key adresses" in text and "addresses" in text


def test_bad_address_at_its_line(tmp_path):
    path = write(tmp_path, """\
        name: x
        switches: [s1]
        hosts:
          h1:
            interfaces:
              net0:
                switch: s1
                addresses:
                  - 192.0.2.1/24
                  - 192.0.2.300/24
        """)
    text = error_of(path)
    assert f"{path}:10: host h1 interface net0: bad address '192.0.2.300/24'" in text


def test_address_needs_prefix_length(tmp_path):
    path = write(tmp_path, "name: x\nswitches: [s1]\nhosts: {h1: {interfaces: {net0: {switch: s1, addresses: [192.0.2.1]}}}}\n")
    assert "needs a prefix length" in error_of(path)


def test_duplicate_host_and_switch(tmp_path):
    path = write(tmp_path, "name: x\nswitches: [s1]\nhosts:\n  h1: {interfaces: {net0: s1}}\n  h1: {interfaces: {net0: s1}}\n")
    assert f"{path}:5: hosts: h1 appears twice" in error_of(path)
    path = write(tmp_path, "name: x\nswitches: [s1, s1]\nhosts: {h1: {interfaces: {net0: s1}}}\n", "u.yaml")
    assert "switch s1 is listed twice" in error_of(path)


def test_host_named_like_a_switch(tmp_path):
    path = write(tmp_path, "name: x\nswitches: [s1]\nhosts: {s1: {interfaces: {net0: s1}}}\n")
    assert "host s1: a switch has the same name" in error_of(path)


def test_name_too_long_is_refused_not_truncated(tmp_path):
    """Linux names are at most 15 bytes; a host whose veth name cannot fit is refused at load time."""
    path = write(tmp_path, "name: x\nswitches: [s1]\nhosts:\n  webserver1: {interfaces: {net0: s1}}\n")
    text = error_of(path)
    assert f"{path}:4:" in text and "over Linux's 15" in text and "shorten" in text
    path = write(tmp_path, "name: x\nswitches: [backbone01]\nhosts: {h1: {interfaces: {net0: backbone01}}}\n", "s.yaml")
    assert "switch backbone01" in error_of(path)


def test_longest_fitting_names_load():
    budget = naming.MAX_IFNAME - naming.PREFIX_LEN       # bytes left after the run prefix
    host = "h" * (budget - 2)                             # + "n0"
    topo = load({"name": "x", "switches": ["s" * budget], "hosts": {host: {"interfaces": {"net0": "s" * budget}}}})
    assert topo.hosts[host].interfaces["net0"].switch == "s" * budget
    assert len(naming.port_name("abcd", host, "net0")) == naming.MAX_IFNAME


def test_mapping_errors_have_no_line_but_say_what():
    with pytest.raises(TopologyError, match="missing key switches"):
        load({"name": "x", "hosts": {}})


def test_bad_yaml_has_a_line(tmp_path):
    path = write(tmp_path, "name: x\nswitches: [s1\nhosts: {}\n")
    assert error_of(path).startswith(f"{path}:")


def test_options_and_mpathd_keys_are_checked(tmp_path):
    path = write(tmp_path, "name: x\nswitches: [s1]\nhosts:\n  h1:\n    interfaces: {net0: s1}\n"
                           "    mpathd: {failure_detecton_time: 100}\n")
    assert f"{path}:6: host h1 mpathd: unknown key failure_detecton_time" in error_of(path)
    path = write(tmp_path, "name: x\nswitches: [s1]\nhosts:\n  h1:\n    interfaces: {net0: s1}\n"
                           "    options: {dad_profile: slow}\n", "o.yaml")
    assert "'slow' is not one of fast, illumos" in error_of(path)


def test_unknown_topology_name_lists_known():
    with pytest.raises(TopologyError, match="ipmp-pair"):
        load("no-such-topology")


def test_ip_true_boots_an_interface_plumbed_and_reaches_the_agent(tmp_path):
    path = write(tmp_path, """\
        name: x
        switches: [s1]
        hosts:
          h1: {interfaces: {net0: {switch: s1, ip: true}, net1: s1}}
        """)
    ifs = load(path).hosts["h1"].interfaces
    assert ifs["net0"].to_config() == {"name": "net0", "addresses": [], "ip": True}
    assert ifs["net1"].to_config() == {"name": "net1", "addresses": []}


def test_ip_must_be_a_boolean_at_its_line(tmp_path):
    path = write(tmp_path, """\
        name: x
        switches: [s1]
        hosts:
          h1:
            interfaces:
              net0: {switch: s1, ip: yes please}
        """)
    assert error_of(path).endswith(
        f"{path}:6: host h1 interface net0: ip 'yes please' must be true or false "
        "(true: the interface boots plumbed for IPv4 and IPv6 with no address)")
