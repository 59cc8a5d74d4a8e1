"""How often in.mpathd re-reads the kernel (mpd_main.c process_rtsock / initifs):
the routing messages of one loop turn ask for one rescan, run after them all,
and a rescan walks the logical interfaces (SIOCGLIFCONF) once."""
import sys

from rtsock_emul.wire.constants import AF_INET, IFF_FAILED, IFF_INACTIVE

from .host import ipmp_group, make


class Counter:
    def __init__(self):
        self.refreshes = 0
        self.walks = 0


def count(md, kernel):
    """Count md.refresh runs and the kernel.lifs() walks in.mpathd makes."""
    seen = Counter()
    refresh, lifs = md.refresh, kernel.lifs

    def counted_refresh():
        seen.refreshes += 1
        refresh()

    def counted_lifs(*args, **kwargs):
        if sys._getframe(1).f_globals["__name__"].startswith("rtsock_emul.mpathd"):
            seen.walks += 1
        return lifs(*args, **kwargs)

    md.refresh, kernel.lifs = counted_refresh, counted_lifs
    return seen


def test_R114_carrier_loss_costs_one_rescan_per_loop_turn():
    """One carrier loss on a two-member group: the kernel's IFINFO, then in.mpathd's
    own SIOCSLIFFLAGS(FAILED) and the messages it causes, make two loop turns with
    messages, so two rescans of one SIOCGLIFCONF walk each."""
    ctx, k, prober, md, clock = make()
    ipmp_group(k, "net0", "net1", standby=("net1",))
    k.start()
    seen = count(md, k.kernel)
    k.link("net0", False)
    assert k.flags_of("net0") & IFF_FAILED and not k.flags_of("net1") & IFF_INACTIVE
    print(f"carrier loss: {seen.refreshes} refreshes, {seen.walks} lifs() walks")
    assert seen.refreshes <= 2
    assert seen.walks <= seen.refreshes


def test_messages_that_change_nothing_tracked_ask_for_no_rescan():
    """RTM_MISS (R82) says nothing about interfaces or routes: no rescan."""
    ctx, k, prober, md, clock = make()
    ipmp_group(k, "net0", "net1")
    k.start()
    seen = count(md, k.kernel)
    k.kernel.emit_miss("198.51.100.7")
    k.settle()
    assert seen.refreshes == 0 and seen.walks == 0


def test_no_rescan_after_stop():
    ctx, k, prober, md, clock = make()
    ipmp_group(k, "net0", "net1")
    k.start()
    seen = count(md, k.kernel)
    k.kernel.link_change("net0", False)     # delivered in the next loop turn
    md.stop()
    k.settle()
    assert seen.refreshes == 0 and clock.pending() == 0
    assert not k.kernel.flags("net0", AF_INET) & IFF_FAILED
