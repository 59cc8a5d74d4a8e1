"""The delivery journal: state at each queued message, and whom the predicate chose (R30-R41)."""
from rtsock_emul.rtsock.hub import RtsHub
from rtsock_emul.rtsock.journal import Journal, digest
from rtsock_emul.wire import RtMsg, encode
from rtsock_emul.wire.constants import AF_INET, AF_INET6, RTAW_UNDER_IPMP, RTSQ_ALL, RTSQ_UNDER_IPMP

from .test_hub import sock

MSG = RtMsg("RTM_ADD", dst="198.51.100.0/24", gateway="192.0.2.1")


def _hub(state):
    hub = RtsHub()
    hub.journal = Journal(lambda: dict(state), maxlen=8)
    return hub


def test_each_queue_is_one_entry_naming_delivered_dropped_and_shut_sockets():
    """R38: the entry lists exactly the sockets the predicate chose, whatever happened next."""
    state = {"under": {}}
    hub = _hub(state)
    ok, full, shut, v6, aware_only = (sock(), sock(room=0), sock(), sock(AF_INET6), sock())
    shut.shut_rd = True
    for s in (ok, full, shut, v6, aware_only):
        hub.add(s)
    assert [s.ident for s in (ok, full, shut, v6, aware_only)] == [1, 2, 3, 4, 5]
    hub.queue(MSG, AF_INET, RTSQ_ALL)
    state_entry, msg_entry = hub.journal.entries
    assert state_entry["kind"] == "state" and state_entry["state"] == {"under": {}}
    assert msg_entry["to"] == [1, 5] and msg_entry["dropped"] == [2] and msg_entry["shut"] == [3]
    assert msg_entry["digest"] == digest(encode(MSG)) and msg_entry["len"] == len(encode(MSG))
    assert msg_entry["origin"] is None and msg_entry["seq"] == 1


def test_state_entry_only_when_the_state_changed_and_nobody_listening_is_still_journaled():
    """M19: an underlying interface's message chosen for nobody is visible in the journal."""
    state = {"under": {}}
    hub = _hub(state)
    normal = hub.add(sock())
    hub.queue(MSG, AF_INET, RTSQ_ALL)
    hub.queue(MSG, AF_INET, RTSQ_ALL)
    state["under"] = {"net0": "ipmp0"}
    hub.queue(MSG, AF_INET, RTSQ_UNDER_IPMP)
    kinds = [e["kind"] for e in hub.journal.entries]
    assert kinds == ["state", "msg", "msg", "state", "msg"]
    assert hub.journal.entries[-1]["to"] == [] and normal.ident == 1


def test_pages_and_forgotten_entries():
    state = {"n": 0}
    hub = _hub(state)
    aware = sock()
    aware.rt_aware = RTAW_UNDER_IPMP
    hub.add(aware)
    for i in range(6):
        state["n"] = i
        hub.queue(MSG, AF_INET, RTSQ_ALL)
    j = hub.journal
    assert j.next_seq == 12 and j.lost == 4
    page = j.page(0, limit=3)
    assert page["first"] == 4 and page["lost"] == 4 and page["end"] == 12
    assert [e["seq"] for e in page["entries"]] == [4, 5, 6] and page["next"] == 7
    assert j.page(None)["entries"] == [] and j.page(None)["next"] == 12
    assert j.page(None)["state"] == {"n": 5}


def test_dad_start_entry_carries_wall_clock_time_for_the_packets_anchor():
    """R100: a DAD start is a "dad" entry with time.time() (the captures' clock) and the
    planned first delay; the kernel's hook reaches it through the platform hooks."""
    from rtsock_emul.platform import PlatformHooks
    hub = RtsHub()
    hub.journal = Journal(lambda: {}, clock=lambda: 7.0, wall=lambda: 1700000000.25)
    PlatformHooks(hub, platform=None).dad_start("net0", AF_INET, "192.0.2.10", 3, 0.15, 0.042)
    [entry] = hub.journal.page(0)["entries"]
    assert entry == {"kind": "dad", "wall": 1700000000.25, "ifname": "net0", "af": AF_INET,
                     "addr": "192.0.2.10", "probes": 3, "interval": 0.15, "first": 0.042,
                     "seq": 0, "t": 7.0}


def _deep_size(root) -> int:
    """Bytes held by root and everything it reaches through containers, each object
    counted once (shared strings and socket lists are shared memory)."""
    import sys
    from collections import deque
    seen, todo, total = set(), [root], 0
    while todo:
        obj = todo.pop()
        if id(obj) in seen or callable(obj):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            todo.extend(obj.keys())
            todo.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset, deque)):
            todo.extend(obj)
        elif hasattr(obj, "__dict__"):
            todo.append(vars(obj))
    return total


def test_a_full_journal_stays_a_few_megabytes():
    """The journal is a ring of DEFAULT_MAXLEN entries; full (half messages to 40 sockets,
    half state changes, each a different state) it holds under 6 MB, where the entries
    as dicts took 38 MB (the soak's RSS check allows for the bound, JOURNAL_KB).
    Measured by walking everything the journal holds (tracemalloc over the fill cost 10x
    the fill's CPU)."""
    from rtsock_emul.rtsock.journal import DEFAULT_MAXLEN

    def state():          # fresh every time, as state_of builds it; every one different
        k = now["k"]
        return {"index": {str(i): f"net{i}" for i in range(1, 6)}, "under": {"net1": "ipmp0", "net2": "ipmp0"},
                "ipmp": ["ipmp0"], "flags": {f"net{i} {af}": (1 << 40) + 0x1000843 + k % 7
                                             for i in range(1, 6) for af in (2, 26)},
                "tentative": [f"192.0.2.{k % 250}", f"198.51.100.{k // 250 % 250}"]}
    now = {"k": 0}
    journal = Journal(state, key=lambda: now["k"])
    data = encode(MSG)
    for i in range(DEFAULT_MAXLEN):
        now["k"] = i
        journal.message(MSG, data + bytes([i % 256]), AF_INET, RTSQ_ALL, None, list(range(1, 41)), [], [])
    used = _deep_size(journal)
    assert len(journal.entries) == DEFAULT_MAXLEN and journal.lost == DEFAULT_MAXLEN
    assert used < 6_000_000, f"a full journal takes {used / 1e6:.1f} MB"
