"""timeline.html: one self-contained page (no network) that tells a run at a glance.

One lane per subscriber; the steps as shaded bands across the lanes, labelled in a
row above them; each message a mark coloured by its type at the time it was read,
with what changed written on it (RTM_IFINFO: `+FAILED -RUNNING` against that
interface's previous flags). Oracle findings and the first difference of a failed
expectation are marked on their message, a failed step on its band. The page fits
the window; zoom widens the track inside its own scroll box. Layout runs in the
browser (labels are packed into rows by their measured width, so none overlap and
two messages read in the same millisecond get two marks). Every message is also a
row of the table below.
"""
from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from rtsock_emul.wire import constants as C
from rtsock_emul.wire.render import render as render_msg

from .errors import StepFailure
from .matcher import IF_TYPES, sa_addr, view
from .rulebook import rule_ref

if TYPE_CHECKING:
    from .matcher import IfNames
    from .runner import RunResult
    from .schema import Subscriber
    from .streams import Record
    from .truth import State

COLOURS = {"IFINFO": "#3465a4", "NEWADDR": "#4e9a06", "DELADDR": "#ce5c00", "CHGADDR": "#c4a000",
           "FREEADDR": "#8f5902", "ADD": "#06989a", "DELETE": "#a40000", "CHANGE": "#75507b",
           "GET": "#555753", "MISS": "#888a85", "REDIRECT": "#ad7fa8", "LOSING": "#e9b96e"}
OTHER = "#babdb6"


def _short_type(msg: Any) -> str:
    return C.name_of(C.RTM_NAMES, view(msg).type).removeprefix("RTM_")


def _iface_flags(state: State | None, name: str | None, af: int) -> int | None:
    """The flags in the host's journal when the subscribers opened: what the first message changed."""
    if state is None or (name, af) not in state.flags:
        return None
    return state.flags[(name, af)] & C.IFM_FLAGS_MASK


def _flag_change(before: int | None, after: int) -> str:
    if before is None:
        return ""
    set_ = C.flag_names(C.IFF_NAMES, after & ~before, "IFF_")
    cleared = C.flag_names(C.IFF_NAMES, before & ~after, "IFF_")
    return " ".join([f"+{n}" for n in set_] + [f"-{n}" for n in cleared]) or "(no change)"


class _Labeller:
    """Short labels for one subscriber's messages; remembers each interface's flags."""

    def __init__(self, names: IfNames | None, base_state: State | None) -> None:
        self.names, self.base = names, base_state
        self.flags: dict[tuple[int, int], int] = {}

    def __call__(self, rec: Record) -> tuple[str, str]:
        if rec.overflow:
            return "ENOBUFS", "read() -> ENOBUFS"
        if rec.msg is None:
            return "?", f"undecodable: {rec.error}"
        v = view(rec.msg, rec.raw)
        kind = _short_type(rec.msg)
        ifname = self.names.name(v.index) if self.names and v.index else None
        parts = [kind]
        if v.type in IF_TYPES:
            parts.append(ifname or f"if#{v.index}")
            flags = v.flags & C.IFM_FLAGS_MASK
            af = C.AF_INET6 if flags & C.IFF_IPV6 else C.AF_INET     # one ill per family, one index
            before = self.flags.get((v.index, af), _iface_flags(self.base, ifname, af))
            parts.append(("v6 " if af == C.AF_INET6 else "") + _flag_change(before, flags))
            self.flags[(v.index, af)] = flags
        else:
            addr = sa_addr(v.addrs.get(C.RTA_IFA)) or sa_addr(v.addrs.get(C.RTA_DST))
            if ifname:
                parts.append(ifname)
            if addr is not None:
                parts.append(str(addr))
        if v.errno not in ("0", 0, None):
            parts.append(str(v.errno))
        return " ".join(p for p in parts if p), kind


def _about(sub: Subscriber) -> str:
    """The subscriber's socket in words: host, protocol, RT_AWARE, shutdown."""
    words = [sub.host]
    if sub.protocol:
        words.append(C.AF_NAMES.get(sub.protocol, str(sub.protocol)))
    if sub.rt_aware:
        words.append("aware" if sub.rt_aware == C.RTAW_UNDER_IPMP else f"RT_AWARE={sub.rt_aware}")
    if sub.shutdown is not None:
        words.append({C.SHUT_RD: "SHUT_RD", C.SHUT_WR: "SHUT_WR"}.get(sub.shutdown, "SHUT_RDWR"))
    return " ".join(words)


def _failure_marks(res: RunResult) -> tuple[int | None, str, dict[int, str]]:
    """(failed step index or None, summary, {id(record): why} for first differences)."""
    exc = res.failure
    diffs: dict[int, str] = {}
    if not isinstance(exc, StepFailure):
        return None, "", diffs
    for d in exc.diffs:
        if d.obs_index is not None and d.obs_index < len(d.observed):
            diffs[id(d.observed[d.obs_index])] = f"first difference, line {d.exp.line}: {d.reason}"
    return exc.step.index, exc.summary, diffs


def data(res: RunResult) -> dict:
    """Everything the page draws, as plain JSON-able data."""
    sc = res.scenario
    failed_step, failed_why, diffs = _failure_marks(res)
    findings: dict = {}
    for v in res.violations:
        if v.record is not None:
            findings.setdefault(id(v.record), []).append(f"{v.rule}: {v.what}")
    records = res.streams.all_records() if res.streams else []
    end = max([r.t for r in records] + [e for _, _, e in res.steps_done] + [0.001])
    steps = [{"i": st.index, "label": f"{st.index}: {st.kind} (line {st.line})", "t0": t0, "t1": t1,
              "failed": st.index == failed_step, "why": failed_why if st.index == failed_step else ""}
             for st, t0, t1 in res.steps_done]
    lanes, msgs = [], []
    for name, sub in sc.subscribers.items():
        lanes.append({"name": name, "about": _about(sub)})
        journal = res.journals.get(sub.host)
        label = _Labeller(res.names.get(sub.host), journal.base if journal else None)
        for rec in res.streams.snapshot(name) if res.streams else []:
            text, kind = label(rec)
            detail = (render_msg(rec.msg, size=len(rec.raw)) if rec.msg is not None else rec.error)
            notes = findings.get(id(rec), []) + ([diffs[id(rec)]] if id(rec) in diffs else [])
            msgs.append({"lane": len(lanes) - 1, "t": rec.t, "step": rec.step, "label": text, "type": kind,
                         "colour": COLOURS.get(kind, OTHER), "detail": detail, "notes": notes,
                         "finding": id(rec) in findings, "diff": id(rec) in diffs})
    global_findings = [f"{v.rule} {v.sub}: {v.what}" for v in res.violations if v.record is None]
    return {"title": sc.name, "path": sc.path, "mode": res.mode, "end": end,
            "outcome": "FAILED" if res.failure else "passed", "steps": steps, "lanes": lanes,
            "msgs": msgs, "legend": [[k, c] for k, c in COLOURS.items()
                                     if any(m["type"] == k for m in msgs)],
            "findings": global_findings,
            "rules": [[v.rule, v.sub, v.what, v.text, rule_ref(v.rule)] for v in res.violations]}


def page(res) -> str:
    d = data(res)
    return (f"<!doctype html><html lang=en><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width'><title>{html.escape(d['title'])}</title>"
            f"<style>{_CSS}</style><body><header><h1>{html.escape(d['title'])}</h1>"
            f"<p>{html.escape(d['path'])} — {d['mode']} mode — <b class={d['outcome']}>{d['outcome']}</b>"
            f" — {len(d['msgs'])} message(s) in {d['end']:.3f} s</p></header>"
            f"<div id=bar><span id=zoom><button data-z=0.5 title='zoom out'>−</button>"
            f"<button data-z=0 title='fit to window'>fit</button><button data-z=2 title='zoom in'>+</button>"
            f" <span id=zl></span></span><span id=legend></span></div>"
            f"<div id=tl><div id=names></div><div id=scroll><div id=track></div></div></div>"
            f"<div id=findings></div><pre id=detail>click a mark or a row for the whole message</pre>"
            f"<table id=list><thead><tr><th>ms</th><th>subscriber</th><th>step</th><th>message</th>"
            f"<th>notes</th></tr></thead><tbody></tbody></table>"
            f"<script>const D={_json(d)};{_JS}</script></body></html>")


def _json(d: Any) -> str:
    return json.dumps(d).replace("</", "<\\/")


_CSS = """
*{box-sizing:border-box}body{font:13px system-ui,sans-serif;margin:0 12px 24px;color:#222;overflow-x:hidden}
h1{font-size:18px;margin:12px 0 2px}header p{margin:0 0 8px;color:#555}b.FAILED{color:#c00}b.passed{color:#080}
#bar{display:flex;gap:16px;align-items:center;flex-wrap:wrap;margin-bottom:6px}
#bar button{font:12px monospace;min-width:30px}#legend{display:flex;flex-wrap:wrap;gap:4px 12px}
.key{display:inline-flex;align-items:center;gap:4px;font-size:12px}.sw{width:14px;height:12px;border-radius:2px;display:inline-block}
.sw.finding{outline:2px solid #d00;background:#fff}.sw.diff{outline:2px dashed #d00;background:#fff}
.sw.stepband{background:#dde4ee;border-left:2px solid #7a8ca8}.sw.bad{background:#fde0e0;border:1px solid #d00}
#tl{display:flex;border:1px solid #ccc;width:100%}#names{flex:0 0 130px;border-right:1px solid #ccc;background:#fafafa}
#names div{padding:3px 6px;border-bottom:1px solid #ddd;overflow:hidden}#names small{display:block;color:#777;font-size:10px}
#scroll{flex:1 1 auto;overflow-x:auto;overflow-y:hidden;min-width:0}#track{position:relative}
.band{position:absolute;top:0;bottom:0;background:#eef2f7;border-left:1px solid #b8c4d6}.band.odd{background:#f6f8fb}
.band.bad{background:#fde0e0;border-left:2px solid #d00}
.row{position:relative;border-bottom:1px solid #ddd}.row.axis,#names .axis{height:20px;color:#666;font-size:11px}
.tick{position:absolute;top:3px;border-left:1px solid #999;padding-left:3px;font-size:11px;color:#555;line-height:14px}
.sl{position:absolute;white-space:nowrap;font-size:11px;padding:1px 4px;border-left:2px solid #7a8ca8;background:#fff;
line-height:14px}.sl.bad{border-left-color:#d00;color:#a00;font-weight:bold}
.m{position:absolute;white-space:nowrap;font:11px/14px monospace;padding:1px 4px 1px 3px;border-radius:0 3px 3px 0;
color:#fff;cursor:pointer;border-left:3px solid #000}.m.finding{outline:2px solid #d00;outline-offset:1px}
.m.diff{outline:2px dashed #d00;outline-offset:1px}.m.sel{box-shadow:0 0 0 3px #fc0}
#findings p{margin:6px 0;color:#a00}#findings i{color:#444}
pre{background:#f6f6f6;padding:6px;white-space:pre-wrap}table{border-collapse:collapse;margin-top:8px;width:100%}
td,th{border-bottom:1px solid #eee;padding:2px 8px;text-align:left;font:12px monospace;vertical-align:top}
tr.step td{background:#eef2f7;font-weight:bold}tr.bad td{color:#c00}tr.sel td{background:#fff5c0}
td .sw{margin-right:4px;vertical-align:middle}
"""

_JS = r"""
const $=s=>document.querySelector(s),el=(t,c,txt)=>{const e=document.createElement(t);if(c)e.className=c;if(txt!=null)e.textContent=txt;return e};
let zoom=1;const ROW=18,GAP=6,PAD=4;
function key(colour,cls,text){const k=el('span','key');const s=el('span','sw'+(cls?' '+cls:''));if(colour)s.style.background=colour;k.append(s,text);return k}
const lg=$('#legend');D.legend.forEach(([t,c])=>lg.append(key(c,'',t)));
lg.append(key('','stepband','step'),key('','bad','failed step'),key('','finding','oracle finding'),key('','diff','first difference'));
function show(i){document.querySelectorAll('.sel').forEach(e=>e.classList.remove('sel'));
 const m=D.msgs[i];$('#detail').textContent=`${D.lanes[m.lane].name} t=${m.t.toFixed(6)}s step ${m.step}\n${m.notes.map(n=>'!! '+n+'\n').join('')}${m.detail}`;
 document.querySelectorAll(`[data-i="${i}"]`).forEach(e=>e.classList.add('sel'))}
// pack: each item goes to the first row where it overlaps nothing; returns the row count
function pack(items,width){const rows=[];for(const it of items){let x=Math.max(0,Math.min(it.x,width-it.w));
 let r=0;for(;r<rows.length;r++){if(rows[r].every(([a,b])=>x+it.w+GAP<=a||x>=b+GAP))break}
 if(r==rows.length)rows.push([]);rows[r].push([x,x+it.w]);it.e.style.left=x+'px';it.e.style.top=(PAD+r*ROW)+'px'}
 return Math.max(rows.length,1)}
// a tick every 1, 2 or 5 x 10^k seconds, about 90 px apart
function nice(x){const p=Math.pow(10,Math.floor(Math.log10(x)));return [1,2,5,10].map(m=>m*p).find(v=>v>=x)}
const fmt=t=>(t*1000).toFixed(t&&t<0.01?1:0);
function draw(){const scroll=$('#scroll'),track=$('#track'),names=$('#names');
 const W=Math.max(200,scroll.clientWidth*zoom);track.style.width=W+'px';track.innerHTML='';names.innerHTML='';
 const X=t=>PAD+(W-2*PAD)*t/D.end;
 $('#zl').textContent=zoom==1?'fit to window':`×${zoom}`;
 const rows=[],axis=el('div','row axis'),ah=el('div','axis','ms');track.append(axis);names.append(ah);
 const step=nice(D.end*90/W);for(let t=0;t<=D.end+1e-9&&X(t)<W-40;t+=step){const e=el('div','tick',fmt(t));e.style.left=X(t)+'px';axis.append(e)}
 const srow=el('div','row');track.append(srow);
 const sl=D.steps.map(s=>{const e=el('div','sl'+(s.failed?' bad':''),s.label+(s.failed?' ✗':''));e.title=s.label+(s.failed?' ✗ '+s.why:'');srow.append(e);return {e,x:X(s.t0)}});
 const nh=el('div',null,'steps');names.append(nh);rows.push([srow,nh,sl]);
 D.lanes.forEach((l,li)=>{const r=el('div','row');track.append(r);const n=el('div');n.append(l.name,el('small',null,l.about));names.append(n);
  const items=[];D.msgs.forEach((m,i)=>{if(m.lane!=li)return;const e=el('div','m'+(m.finding?' finding':'')+(m.diff?' diff':''),m.label);
   e.style.background=m.colour;e.style.borderLeftColor='#000';e.dataset.i=i;e.title=(m.notes.join('\n')||m.label);e.onclick=()=>show(i);r.append(e);items.push({e,x:X(m.t)})});
  rows.push([r,n,items])});
 for(const [r,n,items] of rows){items.forEach(it=>it.w=it.e.offsetWidth);const k=pack(items,W);const h=Math.max(36,2*PAD+k*ROW);r.style.height=h+'px';n.style.height=h+'px'}
 D.steps.forEach((s,k)=>{const b=el('div','band'+(k%2?' odd':'')+(s.failed?' bad':''));b.style.left=X(s.t0)+'px';
  b.style.width=Math.max(2,X(s.t1)-X(s.t0))+'px';track.prepend(b)})}
document.querySelectorAll('#zoom button').forEach(b=>b.onclick=()=>{const z=+b.dataset.z;zoom=z?Math.min(64,Math.max(1,zoom*z)):1;draw()});
$('#scroll').addEventListener('wheel',ev=>{if(!ev.ctrlKey)return;ev.preventDefault();zoom=Math.min(64,Math.max(1,zoom*(ev.deltaY<0?1.25:0.8)));draw()},{passive:false});
window.addEventListener('resize',draw);
const F=$('#findings');D.rules.forEach(([rule,sub,what,text,ref])=>{const p=el('p');p.append(el('b',null,rule+' '),`${sub}: ${what} `,el('i',null,text?`“${text}”`:''),` (see ${ref})`);F.append(p)});
const tb=$('#list tbody'),rows=[];
D.steps.forEach(s=>rows.push([s.t0,0,()=>{const tr=el('tr','step'+(s.failed?' bad':''));
 [(s.t0*1000).toFixed(1),'',s.i,'step '+s.label,s.failed?'✗ '+s.why:''].forEach(x=>tr.append(el('td',null,x)));return tr}]));
D.msgs.forEach((m,i)=>rows.push([m.t,1,()=>{const tr=el('tr','msg'+(m.notes.length?' bad':''));tr.dataset.i=i;tr.onclick=()=>show(i);
 const c=el('td');const s=el('span','sw');s.style.background=m.colour;c.append(s,m.label);
 tr.append(el('td',null,(m.t*1000).toFixed(1)),el('td',null,D.lanes[m.lane].name),el('td',null,m.step),c,el('td',null,m.notes.join('; ')));return tr}]));
rows.sort((a,b)=>a[0]-b[0]||a[1]-b[1]).forEach(r=>tb.append(r[2]()));
draw();
"""
