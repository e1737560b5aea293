"""The drill page: one test or drill, per set and per rep, left against right, and its progress over the
sessions (drill.html, self-contained: styles inline, figures as SVG data URIs).

Input is the drill result's JSON (docs/drills.md), as `tiltguard drill --file ... --report DIR` or the
live guidance writes it; history rows come from the store (host.store.drills).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from jinja2 import Environment, StrictUndefined
from markupsafe import Markup
from matplotlib.figure import Figure
from tiltguard.host.drills import DRILLS

from . import templates
from .figures import BLUE, GREY, ORANGE, VERMILLION, FigureOut, _figure

SIDE_COLOURS = {"left": BLUE, "right": ORANGE, None: GREY}

DRILL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ p.title }} — Tiltguard</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{{ style }}</style></head>
<body><main>
<h1 id="title">{{ p.title }}</h1>
<p class="lede">{{ p.kind|capitalize }} · {{ p.position }} · {{ p.dose }}</p>
<section id="summary" aria-labelledby="h-summary"><h2 id="h-summary">Summary</h2>
<ul>
<li id="sets-count">{{ p.sets|length }} set(s), {{ p.total_reps }} reps, {{ p.fault_reps }} with a fault</li>
{% if p.sides %}<li id="sides" data-verdict="{{ p.sides.verdict }}">{{ p.sides.text }} (differences under
{{ '%.1f'|format(p.sides.smallest_real_deg) }}° are not called an asymmetry)</li>{% endif %}
<li>Tolerances: {% for k, v in p.tolerances.items() %}{{ k }} {{ v }}°{% if not loop.last %}, {% endif %}{% endfor %}</li>
</ul></section>
{% for f in figures %}<figure id="{{ f.id }}"><img src="{{ f.data_uri }}" alt="{{ f.alt }}" width="{{ f.width }}"
height="{{ f.height }}"><figcaption>{{ f.caption }}</figcaption></figure>{% endfor %}
<section id="sets" aria-labelledby="h-sets"><h2 id="h-sets">Sets and reps</h2>
{% for s in p.sets %}<h3>Set {{ loop.index }}{% if s.side %} — {{ s.side }} side{% endif %}</h3>
<table class="reps"><thead><tr><th>rep</th><th>top (s)</th><th>hold (s)</th><th>tilt (°)</th><th>obliquity (°)</th>
<th>rotation (°)</th><th>faults</th></tr></thead><tbody>
{% for r in s.reps %}<tr><td>{{ loop.index }}{% if r.partial %} (partial){% endif %}</td><td>{{ '%.1f'|format(r.top_s) }}</td>
<td>{{ '%.1f'|format(r.hold_s) }}</td><td>{{ '%+.1f'|format(r.tilt_deg) }}</td><td>{{ '%+.1f'|format(r.obliquity_deg) }}</td>
<td>{{ '%+.1f'|format(r.rotation_deg) }}</td><td>{{ r.faults|join(', ') or '–' }}</td></tr>{% endfor %}
</tbody></table>{% endfor %}</section>
{% if p.history %}<section id="progress" aria-labelledby="h-progress"><h2 id="h-progress">Progress</h2>
<table><thead><tr><th>date</th><th>reps</th><th>with a fault</th><th>left vs right</th></tr></thead><tbody>
{% for h in p.history %}<tr><td>{{ h.date }}</td><td>{{ h.reps }}</td><td>{{ h.fault_reps }}</td><td>{{ h.sides }}</td></tr>{% endfor %}
</tbody></table></section>{% endif %}
<p class="note">Angles are the pelvis' change from the set's starting posture (tilt &gt; 0 anterior, obliquity &gt; 0
left side up, rotation &gt; 0 turned left), measured by the pod: see docs/drills.md.</p>
</main></body></html>
"""


def drill_page_data(result: dict, history: list[dict] | None = None) -> dict:
    spec = DRILLS[result["drill"]]
    reps = [r for s in result["sets"] for r in s["reps"]]
    return {"title": spec.title, "kind": spec.kind, "position": spec.position, "dose": spec.dose,
            "sets": result["sets"], "total_reps": len(reps), "fault_reps": sum(1 for r in reps if r["faults"]),
            "sides": result.get("sides"), "tolerances": result.get("tolerances_deg", {}),
            "history": history or []}


def history_rows(store, drill: str) -> list[dict]:
    """One row per stored session of this drill, oldest first (host.store.drills)."""
    # the store is read only when a history is asked for
    from tiltguard.host.store.drills import drill_results

    rows = []
    for info, res in drill_results(store, drill):
        reps = [r for s in res["sets"] for r in s["reps"]]
        rows.append({"session": info.id, "date": dt.datetime.fromtimestamp(info.started_at).strftime("%Y-%m-%d %H:%M"),
                     "reps": len(reps), "fault_reps": sum(1 for r in reps if r["faults"]),
                     "sides": (res.get("sides") or {}).get("text", "–")})
    return rows


def drill_figures(result: dict) -> list[FigureOut]:
    spec = DRILLS[result["drill"]]
    reps = [r for s in result["sets"] for r in s["reps"]]
    figs = []
    if not reps:
        return figs
    fig = Figure(figsize=(8, 3.2))
    ax = fig.add_subplot()
    x = np.arange(1, len(reps) + 1)
    ax.bar(x, [r["peak_deg"] for r in reps], color=[SIDE_COLOURS.get(r["side"], GREY) for r in reps])
    ax.set_xlabel("rep")
    ax.set_ylabel("movement (°)")
    ax.set_title(f"{spec.title}: each rep's movement" + (" (blue left, orange right)" if spec.sides != "none" else ""))
    figs.append(_figure("fig-reps", "Reps", f"Bar chart of the {len(reps)} reps' movement in degrees",
                        "Each rep's counted movement against the set's starting posture.", fig))
    if spec.faults:
        fig = Figure(figsize=(8, 3.2))
        ax = fig.add_subplot()
        for k, f in enumerate(spec.faults):
            vals = [r["fault_values_deg"].get(f.name, np.nan) for r in reps]
            ax.plot(x, vals, "o-", color=(VERMILLION, BLUE, ORANGE)[k % 3], label=f.name)
            tol = result.get("tolerances_deg", {}).get(f.name, f.tolerance_deg)
            ax.axhspan(0, tol, color=GREY, alpha=0.12)
            ax.axhline(tol, color=(VERMILLION, BLUE, ORANGE)[k % 3], ls="--", lw=1)
        ax.set_xlabel("rep")
        ax.set_ylabel("largest excursion (°)")
        ax.legend(loc="upper right")
        ax.set_title("Form: each fault's largest excursion per rep; dashed line = tolerance")
        figs.append(_figure("fig-faults", "Form", "Per-rep fault excursions against the tolerance band",
                            "Shaded: inside the tolerance; above the dashed line the rep is marked with that fault.",
                            fig))
    return figs


def render_drill_html(page: dict, figures: list[FigureOut]) -> str:
    env = Environment(autoescape=True, undefined=StrictUndefined)
    return env.from_string(DRILL_PAGE).render(p=page, figures=figures, style=Markup(templates.STYLE))


def write_drill_page(result: dict, out_dir: str | Path, history: list[dict] | None = None) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "drill.html"
    path.write_text(render_drill_html(drill_page_data(result, history), drill_figures(result)), encoding="utf-8")
    return path


def check_for_advice(advice_id: str, store=None) -> dict | None:
    """The test that checks a piece of advice, and its latest stored result in words (the run report's
    advice links to it: "your hip-flexor test: left 6° less posterior tilt than right")."""
    test = next((d for d in DRILLS.values() if d.kind == "test" and advice_id in d.advice_ids), None)
    if test is None:
        return None
    out = {"test": test.name, "title": test.title, "command": f"tiltguard test {test.name}", "last": None}
    if store is not None:
        # the store is read only when there is one
        from tiltguard.host.store.drills import drill_results

        done = drill_results(store, test.name)
        if done and done[-1][1].get("sides"):
            out["last"] = f"your {test.title.lower()}: {done[-1][1]['sides']['text']}"
    return out


def attach_last_checks(report: dict, store) -> None:
    """Fill each drill entry's check with the wearer's latest stored result of that test (needs the store)."""
    if store is None:
        return
    for d in report.get("drills", []):
        if d.get("check"):
            d["check"] = check_for_advice(d["advice_id"], store)


def drill_progress_table(store) -> str:
    """Per drill and test, one line per stored session: reps, reps with a fault, left against right."""
    # the store is read only when a history is asked for
    from tiltguard.host.store.drills import drill_results

    names = sorted({res["drill"] for _, res in drill_results(store)})
    lines = []
    for name in names:
        lines.append(f"{DRILLS[name].title} ({DRILLS[name].kind})" if name in DRILLS else name)
        for h in history_rows(store, name):
            lines.append(f"  {h['date']:16}  session {h['session']:>4}  {h['reps']:>3} reps  "
                         f"{h['fault_reps']:>3} with a fault  {h['sides']}")
    return "\n".join(lines)
