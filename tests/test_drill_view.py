"""The live drill guidance (issue 20) end to end in Qt (pytest-qt, offscreen): a simulated person does a set of
glute bridges, rocking the hips on some reps; the window prompts, counts, cues the fault, and the result is
stored with the session."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before pytest-qt makes the QApplication

from tiltguard.host.drills import DRILLS  # noqa: E402
from tiltguard.host.live.drill_view import DrillWindow, SimulatedPerson, store_result  # noqa: E402
from tiltguard.host.simulator.drills import Person, simulate_drill  # noqa: E402
from tiltguard.host.store import SessionStore  # noqa: E402
from tiltguard.host.store.drills import drill_results  # noqa: E402
from tiltguard_eval.drill_scoring import truth_reps  # noqa: E402


def test_guided_set_prompts_counts_cues_a_fault_and_stores_the_result(qtbot, tmp_path):
    person = Person(control="poor", tempo=1.0, amplitude=1.0, partial_share=0.0, pause_share=0.0)
    rec, truth = simulate_drill("glute-bridge", seed=7, person=person, sets=1)
    spec = DRILLS["glute-bridge"]
    win = DrillWindow(spec, rec.rate_hz)
    qtbot.addWidget(win)
    win.show()
    shown_prompts, shown_counts = [], []
    win.counter.setText("0")
    player = SimulatedPerson(win, rec, speed=25.0)

    def watch():
        if not shown_prompts or shown_prompts[-1] != win.prompt.text():
            shown_prompts.append(win.prompt.text())
        if not shown_counts or shown_counts[-1] != win.counter.text():
            shown_counts.append(win.counter.text())
        return player.k >= len(rec)

    qtbot.waitUntil(watch, timeout=60000)
    result = win.finish()

    assert "Lie on your back and keep still" in shown_prompts and "Start" in shown_prompts
    assert "Hold 3 s" in win.voice.said and "Lower slowly" in win.voice.said
    n_true = len(truth.sets[0]["reps"])
    assert win.counter.text() == str(n_true) == "10"
    assert [e.data["count"] for e in win.tracker.events if e.kind == "rep"] == list(range(1, n_true + 1))
    assert len([c for c in shown_counts if c != "0"]) >= 3  # the counter moved while the set went on
    true_rocks = sum("rock" in r["faults"] for r in truth_reps(truth, spec)[0])
    assert true_rocks > 0 and len(win.fault_cues) >= true_rocks - 1
    assert all(f == "rock" for _, f in win.fault_cues)
    assert win.gauge.bands()["rotation"] == (-5.0, 5.0)  # the tolerance band drawn on the gauge

    db = tmp_path / "sessions.db"
    sid = store_result(db, result, rec=rec)
    with SessionStore(db) as store:
        stored = drill_results(store, "glute-bridge")
        assert [info.id for info, _ in stored] == [sid]
        assert len(stored[0][1]["sets"][0]["reps"]) == 10
        assert store.recording(sid).duration_s > 60  # the samples are stored with it
