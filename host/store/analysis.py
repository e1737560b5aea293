"""Analysis run when a session is closed (or recovered): what arrived and how well.

'link' result: samples, duration, frames stored / damaged / duplicated / resent, stream seqs still missing,
device sample indices missing (lost on the device, e.g. a FIFO overflow), and the device->host clock fit.
Each hole in the samples also becomes a 'data_gap' flag, so reports show where data is missing.
"""
from __future__ import annotations

import numpy as np
from tiltguard.firmware import protocol as P
from tiltguard.host.clock import ClockMap, DeviceTime, index_gaps
from tiltguard.host.link.decode import sample_table


def analyse_link(store, session_id: int) -> dict:
    info = store.session(session_id)
    if info.source == "csv":
        rec = store.recording(session_id)
        result = {"samples": len(rec), "duration_s": rec.duration_s, "source": "csv"}
        store.save_analysis(session_id, "link", result)
        return result
    dec = store.decoded(session_id)
    tab = sample_table(dec)
    result = {
        "samples": int(len(tab.index)),
        "frames_stored": dec.frames_total,
        "frames_damaged": dec.damaged,
        "frames_duplicated": dec.duplicates,
        "frames_resent": dec.resent,
        "missing_seq_ranges": dec.missing_seqs,
        "missing_frames": int(sum(b - a + 1 for a, b in dec.missing_seqs)),
        "hellos": len(dec.hellos),
        "fifo_overflow_events": sum(1 for e in dec.events if e.code == P.E_FIFO_OVERFLOW),
    }
    flags = []
    if len(tab.index):
        t_s = (tab.t_us - tab.t_us[0]) * 1e-6
        result["duration_s"] = float(t_s[-1])
        order_ok = bool(np.all(np.diff(tab.index) > 0))
        result["index_in_order"] = order_ok
        gaps = index_gaps(tab.index)
        result["samples_missing"] = int(sum(n for _, n in gaps))
        result["sample_gaps"] = gaps[:100]
        pos = {int(i): k for k, i in enumerate(tab.index)}
        for first, n in gaps:
            k = pos[first - 1]
            flags.append(("data_gap", float(t_s[k]), float(t_s[k + 1]), float(n),
                          f"{n} samples missing after sample {first - 1}"))
        if info.source == "live":
            fit = _fit_unwrapped(dec)
            if fit is not None:
                result["clock"] = fit
    store.add_flags(session_id, flags, replace_kind="data_gap")
    store.save_analysis(session_id, "link", result)
    return result


def _fit_unwrapped(dec):
    """Clock fit on unwrapped device time (the stored t_us wrap every 71.6 min)."""
    clock = ClockMap()
    unwrap = DeviceTime()
    for f, rx in dec.sample_frames:
        t_last = unwrap.unwrap(f.t_us) + (f.n - 1) * f.period_ns / 1000.0
        if not f.flags & (P.F_RESENT | P.F_FROM_LOG):
            # the frame leaves the device after its last sample: fit arrival to that time
            clock.add(t_last, rx)
    fit = clock.fit()
    if fit is None:
        return None
    return {"offset_s": fit.offset_s, "drift_ppm": fit.drift_ppm, "envelope_points": fit.n_points,
            "envelope_residual_ms": fit.residual_ms}
