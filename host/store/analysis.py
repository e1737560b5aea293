"""Analysis run when a session is closed (or recovered): what arrived and how well.

'link' result: samples, duration, frames stored / damaged / duplicated / resent, stream seqs still missing,
device sample indices missing (lost on the device, e.g. a FIFO overflow), and the device->host clock fit.
Each hole in the samples also becomes a 'data_gap' flag, so reports show where data is missing.
"""
from __future__ import annotations

import numpy as np
from tiltguard.firmware import protocol as P
from tiltguard.host.clock import ClockMap, DeviceTime, index_gaps
from tiltguard.host.link.decode import sample_table, segment_summary


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
        "seq_jumps": dec.seq_jumps,
        "chunks_damaged": getattr(store, "damaged_chunks", {}).get(session_id, 0),  # each cost only its frames
        "hellos": len(dec.hellos),
        "fifo_overflow_events": sum(1 for e in dec.events if e.code == P.E_FIFO_OVERFLOW),
    }
    flags = []
    if len(tab.index):
        t_s = (tab.t_us - tab.t_us[0]) * 1e-6
        result["duration_s"] = float(t_s[-1])
        # sample indices start again at each restart of the device: gaps are counted within each segment
        order_ok, gaps = True, []
        for k in range(len(dec.segments) or 1):
            at = np.nonzero(tab.segment == k)[0] if dec.segments else np.arange(len(tab.index))
            if not len(at):
                continue
            order_ok &= bool(np.all(np.diff(tab.index[at]) > 0))
            pos = {int(i): at[j] for j, i in enumerate(tab.index[at])}
            for first, n in index_gaps(tab.index[at]):
                gaps.append((first, n))
                j = pos[first - 1]
                flags.append(("data_gap", float(t_s[j]), float(t_s[min(j + 1, len(t_s) - 1)]), float(n),
                              f"{n} samples missing after sample {first - 1}"))
            if k > 0:
                seg = dec.segments[k]
                flags.append(("device_restart", float(t_s[at[0]]) - seg.gap_before_s, float(t_s[at[0]]),
                              seg.gap_before_s, f"the pod restarted: no samples for {seg.gap_before_s:.1f} s"))
        result["index_in_order"] = order_ok
        result["samples_missing"] = int(sum(n for _, n in gaps))
        result["sample_gaps"] = gaps[:100]
        result["segments"] = segment_summary(dec, tab)
        result["restarts"] = len(dec.segments) - 1 if dec.segments else 0
        result["restart_gap_s"] = round(sum(sg.gap_before_s for sg in dec.segments[1:]), 3)
        if info.source == "live":
            fit = _fit_unwrapped(dec)
            if fit is not None:
                result["clock"] = fit
    store.add_flags(session_id, [f for f in flags if f[0] == "data_gap"], replace_kind="data_gap")
    store.add_flags(session_id, [f for f in flags if f[0] == "device_restart"], replace_kind="device_restart")
    store.save_analysis(session_id, "link", result)
    return result


def _fit_unwrapped(dec):
    """Clock fit on unwrapped device time (the stored t_us wrap every 71.6 min)."""
    clock = ClockMap()
    unwrap = DeviceTime()
    frames = dec.sample_frames
    if len(dec.segments) > 1:  # device clocks of two power-ups do not join: fit the longest one
        seg = max(dec.segments, key=lambda sg: sg.stop - sg.first)
        frames = frames[seg.first : seg.stop]
    for f, rx in frames:
        t_last = unwrap.unwrap(f.t_us) + (f.n - 1) * f.period_ns / 1000.0
        if not f.flags & (P.F_RESENT | P.F_FROM_LOG):
            # the frame leaves the device after its last sample: fit arrival to that time
            clock.add(t_last, rx)
    fit = clock.fit()
    if fit is None:
        return None
    return {"offset_s": fit.offset_s, "drift_ppm": fit.drift_ppm, "envelope_points": fit.n_points,
            "envelope_residual_ms": fit.residual_ms}
