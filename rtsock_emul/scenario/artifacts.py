"""Per-scenario artifacts under reports/<scenario>/: streams.jsonl, timeline.html, pcaps."""
import html
import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

from rtsock_emul.util.wait import WaitTimeout, wait_until
from rtsock_emul.wire.render import render as render_msg, to_json

PCAP_STOP_TIMEOUT = 3.0
PCAP_START_TIMEOUT = 5.0
ARTIFACT_GLOBS = ("*.pcap", "*.log", "streams.jsonl", "timeline.html", "failure.txt")


def clear(out_dir):
    """Remove a previous run's artifacts, so a stale failure.txt never sits beside a pass."""
    for pattern in ARTIFACT_GLOBS:
        for path in Path(out_dir).glob(pattern):
            path.unlink()


def _first_line(stream, timeout):
    """The first line of a child's stream, waiting at most `timeout` seconds (a selector, no sleep)."""
    import selectors
    with selectors.DefaultSelector() as sel:
        sel.register(stream, selectors.EVENT_READ)
        if not sel.select(timeout):
            return ""
    return stream.readline().decode(errors="replace")


def slug(name):
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:80] or "scenario"


class Capture:
    """tcpdump on the switch end of every host link of a Mininet lab (a bridge device
    shows only what is flooded or addressed to it), registered with the lab's cleanup."""

    def __init__(self, lab, out_dir):
        self.lab, self.out_dir = lab, Path(out_dir)
        self.procs = []

    def start(self):
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
            line = _first_line(proc.stderr, PCAP_START_TIMEOUT)
            if "listening on" not in line:
                raise RuntimeError(f"tcpdump on {entry.get('dev')} did not start: {line.strip() or 'no output'}")

    def stop(self):
        for proc, entry, _ in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    wait_until(lambda p=proc: p.poll() is not None, PCAP_STOP_TIMEOUT,
                               what=f"tcpdump {proc.pid} to exit")
                except WaitTimeout:
                    proc.kill()
                    proc.wait()
            proc.stderr.close()     # only now: tcpdump writes its counts there as it exits
            self.lab.registry.forget(entry)

    def paths(self):
        return [str(p) for _, _, p in self.procs if p.exists()]


def write(res, reports_dir):
    """Write the artifacts of a RunResult; returns {kind: path}."""
    out = Path(reports_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"streams": str(out / "streams.jsonl"), "timeline": str(out / "timeline.html")}
    with open(paths["streams"], "w", encoding="utf-8") as fh:
        for rec in res.streams.all_records():
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


def oracle_summary(res):
    """The oracle's last line of streams.jsonl: messages judged per rule (0: judged
    nothing), violations, and why it could not judge, if so."""
    return {"judged": dict(sorted((res.judged or {}).items())),
            "violations": len(res.violations),
            "truth_failure": str(res.truth_failure) if res.truth_failure is not None else None}


def _record_json(rec):
    item = {"t": round(rec.t, 6), "subscriber": rec.sub, "step": rec.step, "hex": rec.raw.hex()}
    if rec.msg is not None:
        item["msg"] = to_json(rec.msg)
    if rec.error:
        item["error"] = rec.error
    return item


_CSS = """body{font:13px sans-serif;margin:1em}.lane{position:relative;height:34px;border-bottom:1px solid #ddd}
.lane b{position:absolute;left:0;width:110px;overflow:hidden}.axis{position:relative;height:60px;margin-left:120px}
.m{position:absolute;top:6px;width:8px;height:20px;background:#36c;cursor:pointer}.m.bad{background:#c33}
.s{position:absolute;top:0;height:100%;border-left:2px solid #999;font-size:11px;padding-left:2px;white-space:nowrap}
.s.link{border-color:#e80}.body{position:relative;margin-left:120px;height:100%}
pre{background:#f6f6f6;padding:6px}.s span{position:absolute;background:#fff}
table{border-collapse:collapse;margin-top:1em}td,th{border-bottom:1px solid #eee;padding:2px 8px;text-align:left;
font:12px monospace;vertical-align:top}tr.step td{background:#fafafa;font-weight:bold}tr.bad td{color:#c33}"""
LABEL_ROWS = 4      # step labels are staggered over this many rows so close steps stay readable


def timeline_html(res):
    """One lane per subscriber, steps (links in orange) on the time axis; click a mark for its text."""
    sc = res.scenario
    end = max([r.t for r in res.streams.all_records()] + [e for _, _, e in res.steps_done] + [0.001])
    pct = lambda t: f"{100.0 * t / end:.3f}%"  # noqa: E731
    bad = {id(v.record) for v in res.violations if v.record is not None}
    parts = [f"<!doctype html><meta charset=utf-8><title>{html.escape(sc.name)}</title><style>{_CSS}</style>",
             f"<h2>{html.escape(sc.name)}</h2><p>{html.escape(sc.path)} — {res.mode} mode — "
             f"{'FAILED' if res.failure else 'passed'}; {end:.3f}s recorded</p><div class=axis>"]
    for n, (st, t0, _) in enumerate(res.steps_done):
        cls = "s link" if st.kind in ("link", "loss", "delay") else "s"
        label = html.escape(f"{st.index}:{st.kind} (line {st.line})")
        parts.append(f"<div class='{cls}' style='left:{pct(t0)}' title='{label}'>"
                     f"<span style='top:{14 * (n % LABEL_ROWS)}px'>{label}</span></div>")
    parts.append("</div>")
    texts, rows = [], [(t0, 0, f"<tr class=step><td>{t0 * 1000:9.1f}</td><td>step {st.index}</td>"
                              f"<td>{html.escape(st.kind)} (line {st.line})</td></tr>")
                             for st, t0, _ in res.steps_done]
    for name in sc.subscribers:
        parts.append(f"<div class=lane><b>{html.escape(name)}</b><div class=body>")
        for rec in res.streams.snapshot(name):
            idx = len(texts)
            text = render_msg(rec.msg, size=len(rec.raw)) if rec.msg is not None else rec.error
            texts.append(f"{name} t={rec.t:.3f}s step {rec.step}\n{text}")
            cls = "m bad" if id(rec) in bad else "m"
            title = html.escape(text.splitlines()[1] if rec.msg is not None and "\n" in text else text)
            parts.append(f"<div class='{cls}' style='left:{pct(rec.t)}' title='{title}' onclick='show({idx})'></div>")
            rows.append((rec.t, 1, f"<tr class='{'bad' if id(rec) in bad else ''}' onclick='show({idx})'>"
                                   f"<td>{rec.t * 1000:9.1f}</td><td>{html.escape(name)}</td><td>{title}</td></tr>"))
        parts.append("</div></div>")
    for v in res.violations:
        parts.append(f"<p><b>{v.rule}</b> {html.escape(v.sub)}: {html.escape(v.what)}<br><i>{html.escape(v.text)}</i></p>")
    parts.append("<pre id=detail>click a message (a mark above or a row below)</pre>")
    parts.append("<table><tr><th>ms</th><th>where</th><th>what</th></tr>"
                 + "".join(row for _, _, row in sorted(rows, key=lambda r: (r[0], r[1]))) + "</table>")
    parts.append("<script>const T=" + json.dumps(texts)
                 + ";function show(i){document.getElementById('detail').textContent=T[i]}</script>")
    return "".join(parts)


def report_dir(base, scenario_name):
    return os.path.join(base, slug(scenario_name))
