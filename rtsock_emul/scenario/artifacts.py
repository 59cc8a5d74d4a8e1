"""Per-scenario artifacts under reports/<run>/<scenario>/: streams.jsonl, timeline.html, pcaps.

Each pytest session is one run with its own folder, so two sessions from one checkout (or
xdist workers, which share their session's run) never write into each other's;
reports/latest points at the newest run."""
from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

from rtsock_emul.util.wait import WaitTimeout, wait_until
from rtsock_emul.wire.render import to_json

if TYPE_CHECKING:
    from .runner import RunResult
    from .streams import Record

PCAP_STOP_TIMEOUT = 3.0
PCAP_START_TIMEOUT = 5.0
ARTIFACT_GLOBS = ("*.pcap", "*.log", "streams.jsonl", "timeline.html", "failure.txt")


def clear(out_dir) -> None:
    """Remove a previous run's artifacts, so a stale failure.txt never sits beside a pass."""
    for pattern in ARTIFACT_GLOBS:
        for path in Path(out_dir).glob(pattern):
            path.unlink()


def _first_line(stream: IO[bytes], timeout: float) -> str:
    """The first line of a child's stream, waiting at most `timeout` seconds (a selector, no sleep)."""
    import selectors
    with selectors.DefaultSelector() as sel:
        sel.register(stream, selectors.EVENT_READ)
        if not sel.select(timeout):
            return ""
    return stream.readline().decode(errors="replace")


def slug(name: str):
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:80] or "scenario"


class Capture:
    """tcpdump on the switch end of every host link of a Mininet lab (a bridge device
    shows only what is flooded or addressed to it), registered with the lab's cleanup."""

    def __init__(self, lab, out_dir) -> None:
        self.lab, self.out_dir = lab, Path(out_dir)
        self.procs: list[tuple[subprocess.Popen, dict, Path]] = []

    def start(self) -> None:
        from rtsock_emul.lab import naming
        if shutil.which("tcpdump") is None or getattr(self.lab, "net", None) is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for host, intf in self.lab.topology.links():
            dev = naming.port_name(self.lab.run_id, host, intf.name)
            path = self.out_dir / f"{host}-{intf.name}.pcap"
            proc = subprocess.Popen(["tcpdump", "-Z", "root", "-n", "-q", "-U", "--immediate-mode",
                                     "-i", dev, "-w", str(path)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            entry = self.lab.registry.process(proc.pid, kind="pcap", dev=dev)
            self.procs.append((proc, entry, path))
        for proc, entry, _ in self.procs:   # capture only counts once tcpdump listens
            line = _first_line(proc.stderr, PCAP_START_TIMEOUT) if proc.stderr else ""
            if "listening on" not in line:
                raise RuntimeError(f"tcpdump on {entry.get('dev')} did not start: {line.strip() or 'no output'}")

    def stop(self) -> None:
        for proc, _, _ in self.procs:     # all at once: they flush and exit side by side
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, entry, _ in self.procs:
            if proc.poll() is None:
                def exited(p: subprocess.Popen = proc) -> bool:
                    return p.poll() is not None
                try:
                    wait_until(exited, PCAP_STOP_TIMEOUT, what=f"tcpdump {proc.pid} to exit")
                except WaitTimeout:
                    proc.kill()
                    proc.wait()
            if proc.stderr:
                proc.stderr.close()     # only now: tcpdump writes its counts there as it exits
            self.lab.registry.forget(entry)

    def paths(self) -> list[str]:
        return [str(p) for _, _, p in self.procs if p.exists()]


def write(res: RunResult, reports_dir: str | Path) -> dict[str, str]:
    """Write the artifacts of a RunResult; returns {kind: path}."""
    out = Path(reports_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"streams": str(out / "streams.jsonl"), "timeline": str(out / "timeline.html")}
    with open(paths["streams"], "w", encoding="utf-8") as fh:
        for rec in res.streams.all_records() if res.streams else []:
            fh.write(json.dumps(_record_json(rec), sort_keys=True) + "\n")
        fh.write(json.dumps({"oracle": oracle_summary(res)}, sort_keys=True) + "\n")
    Path(paths["timeline"]).write_text(timeline_html(res), encoding="utf-8")
    for host, text in res.log_text.items():
        (out / f"{host}.log").write_text(text, encoding="utf-8")
    pcaps = sorted(str(p) for p in out.glob("*.pcap"))
    if pcaps:
        paths["pcap"] = ",".join(pcaps)
    if res.failure is not None:
        from .report import format_failure
        report = out / "failure.txt"
        report.write_text(format_failure(res), encoding="utf-8")
        paths["report"] = str(report)
    return paths


def oracle_summary(res: RunResult) -> dict:
    """The oracle's last line of streams.jsonl: messages judged per rule (0: judged
    nothing), violations, and why it could not judge, if so."""
    return {"judged": dict(sorted((res.judged or {}).items())),
            "violations": len(res.violations),
            "truth_failure": str(res.truth_failure) if res.truth_failure is not None else None}


def _record_json(rec: Record) -> dict:
    item = {"t": round(rec.t, 6), "subscriber": rec.sub, "step": rec.step, "hex": rec.raw.hex()}
    if rec.msg is not None:
        item["msg"] = to_json(rec.msg)
    if rec.error:
        item["error"] = rec.error
    return item


def timeline_html(res: RunResult) -> str:
    from .timeline import page
    return page(res)


LATEST = "latest"
_runs = itertools.count(1)


def new_run_name() -> str:
    """Start time, pid and a count within the process: unique per session on one machine."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{next(_runs)}"


def run_dir(base: str | Path, run: str) -> Path:
    """base/run, created, with base/latest pointing at it (replaced atomically)."""
    path = Path(base) / run
    path.mkdir(parents=True, exist_ok=True)
    latest, tmp = Path(base) / LATEST, Path(base) / f".{LATEST}-{os.getpid()}"
    if not (latest.is_symlink() and os.readlink(latest) == run):
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run)
        os.replace(tmp, latest)
    return path


def report_dir(base, run, scenario_name: str):
    return os.path.join(run_dir(base, run), slug(scenario_name))
