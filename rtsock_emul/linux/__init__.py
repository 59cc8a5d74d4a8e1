"""The Linux platform adapter (docs/internals.md "Platforms"): netlink carrier
watcher, address/route realizer, ARP/NDP frames on packet sockets, ICMP probes for in.mpathd."""
from .platform import LinuxPlatform


def make_platform(config: dict, log) -> LinuxPlatform:
    return LinuxPlatform(config, log)
