"""Routes of the kernel model are mirrored into the host's Linux table, so traffic follows them."""
import pytest

import rtsock_emul.lab as lab_api

pytestmark = [pytest.mark.root("network namespaces, raw and packet sockets"), pytest.mark.timeout(60)]


def test_topology_default_route_reaches_linux_and_carries_traffic_through_the_router():
    """h2's `default via 198.51.100.254` goes into its kernel model (route_add) and from there
    into Linux; r1 forwards, so h2 reaches the other LAN."""
    with lab_api.start("two-lans") as lab:
        assert "default via 198.51.100.254 dev net0" in lab.net["h2"].cmd("ip route show default")
        assert lab.ping("h2", "192.0.2.254", 2, 0.05).received == 2
        rc, out, err = lab.admin("h2", "route -n get default")     # the rtsock command, print_getmsg
        assert rc == 0 and out.startswith("   route to: default\ndestination: default\n"
                                          "       mask: default\n    gateway: 198.51.100.254\n"
                                          "  interface: net0\n"), (out, err)
