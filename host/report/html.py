"""Render the report / history dict into one self-contained HTML page (styles inline, figures as data URIs)."""
from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup, escape

from . import templates
from .catalogue import METRICS

SIGNED = {"mean_tilt_deg", "saddle_tilt_deg", "tilt_creep_deg", "drop_asymmetry_deg", "ride_tilt_drift_deg_per_h",
          "ride_tilt_change_deg", "rock_growth_pct", "step_time_asymmetry_pct"}
KEY_FACTS = ("cadence_spm", "pedal_cadence_rpm", "mean_tilt_deg", "saddle_tilt_deg", "anterior_tilt_min")
UNIT_TEXT = {"deg": "°", "ratio": ""}


def lookup(data: dict, path: str):
    """The value at a dotted path ('metrics.cadence_spm.value', 'flags.0.start_min')."""
    node = data
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def format_number(value, decimals: int, sign: bool = False) -> str:
    if value is None:
        return "–"
    text = f"{value:+.{decimals}f}" if sign else f"{value:.{decimals}f}"
    return text.replace("-", "−")  # a real minus sign reads better; tests map it back


def _field_function(data: dict):
    def field(path: str, decimals: int | None = None, sign: bool = False) -> Markup:
        value = lookup(data, path)
        if decimals is None:
            parts = path.split(".")
            decimals = METRICS[parts[1]].decimals if parts[0] == "metrics" and parts[1] in METRICS else 1
        raw = "" if value is None else repr(value)
        return Markup('<data value="{}" data-key="{}">{}</data>').format(
            raw, path, escape(format_number(value, decimals, sign)))
    return field


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False)


def render_report_html(report: dict, figures: list) -> str:
    tpl = _env().from_string(templates.REPORT)
    return tpl.render(r=report, figures=figures, style=Markup(templates.STYLE), field=_field_function(report),
                      key_facts=KEY_FACTS, signed=SIGNED, unit_of=lambda u: UNIT_TEXT.get(u, u))


def render_history_html(history: dict, figures: list) -> str:
    tpl = _env().from_string(templates.HISTORY)
    labels = {k: f"{METRICS[k].label} ({METRICS[k].unit})" for k in history["columns"]}
    return tpl.render(h=history, figures=figures, style=Markup(templates.STYLE), field=_field_function(history),
                      labels=labels)
