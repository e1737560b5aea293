"""Advice that needs pace and grade: when does the pelvis tip, on which climbs or descents, above which
pace. Each rule states the numbers it rests on; thresholds are the flags' own (FlagSettings)."""
from __future__ import annotations

from dataclasses import dataclass

from .merge import Band, format_pace

GRADE_CONTRAST_DEG = 2.0  # a band counts as "worse" when its median tilt is this much above the other's


@dataclass
class WatchAdvice:
    id: str
    text: str
    reason: str

    def to_record(self) -> dict:
        return dict(self.__dict__)


def watch_advice(grades: dict[str, Band], threshold_mps: float | None, threshold_deg: float,
                 activity: str) -> list[WatchAdvice]:
    out = []
    up, level, down = grades.get("uphill"), grades.get("level"), grades.get("downhill")
    if activity in ("running", "walking"):
        if down and down.tilt_deg > threshold_deg and (up is None or up.tilt_deg <= threshold_deg):
            out.append(WatchAdvice(
                "downhill-short-steps",
                "Tilt stays in range uphill but not on descents: come downhill with short, quick steps, "
                "hips over the feet, rather than reaching out in front.",
                f"Median tilt {down.tilt_deg:.1f}° on descents ({down.grade_pct:.0f} %) vs "
                + (f"{up.tilt_deg:.1f}° uphill" if up else "no climbs") + f"; the threshold is {threshold_deg:g}°. "
                "Overstriding downhill brakes each step and tips the pelvis forward."))
        if up and up.tilt_deg > threshold_deg and (level is None or up.tilt_deg - level.tilt_deg > GRADE_CONTRAST_DEG):
            out.append(WatchAdvice(
                "uphill-lean-from-ankles",
                "On climbs the pelvis tips forward: lean from the ankles, keep the chest up and shorten the stride.",
                f"Median tilt {up.tilt_deg:.1f}° uphill ({up.grade_pct:.0f} %)"
                + (f" vs {level.tilt_deg:.1f}° on the level" if level else "") + "."))
        if threshold_mps is not None:
            pace = format_pace(1000 / threshold_mps)
            out.append(WatchAdvice(
                "pace-threshold",
                f"Anterior tilt becomes sustained faster than {pace} /km: keep easy runs slower than that, and "
                "at faster paces raise the cadence and shorten the stride rather than reaching out.",
                f"On the level, the median stride tilt crosses {threshold_deg:g}° at {pace} /km and stays above "
                "it at every faster pace of this session."))
    return out
