"""Advice: every rule is reachable from a simulated session, every text gives its reason, numbers are the
wearer's own, and a malformed rule file is refused."""
import pytest
from test_flags import truth_cycles
from tiltguard.host.flags import UserProfile, detect_flags
from tiltguard.host.flags.advice import (
    AdviceContext,
    AdviceRulesError,
    advise,
    load_rules,
    target_cadence,
)

# (scenario, activity, phase, profile) situations a runner or rider can be in after a session or during it.
SITUATIONS = [
    ("run-sustained-anterior", "running", "during", UserProfile()),
    ("run-sustained-anterior", "running", "after", UserProfile()),
    ("run-fatigue-creep", "running", "after", UserProfile(sore_side="right")),
    ("run-asymmetric-drop", "running", "after", UserProfile()),
    ("run-unstable-rotation", "running", "after", UserProfile()),
    ("easy-run-neutral", "running", "during", UserProfile(sore_hamstring=True)),
    ("easy-run-neutral", "running", "after", UserProfile(sore_hamstring=True)),
    ("ride-fatigue", "riding", "after", UserProfile()),
    ("ride-fatigue", "riding", "during", UserProfile()),
]


def _advice(name, activity, phase, profile):
    table, tr = truth_cycles(name)
    flags = detect_flags(table)
    moving = tr.activity_names == activity
    cadence = float(tr.cadence_spm[moving].mean()) if activity in ("running", "walking") else None
    return flags, advise(flags, AdviceContext(phase, activity, profile, cadence))


@pytest.fixture(scope="module")
def all_advice():
    return {situation[:3] + (repr(situation[3]),): _advice(*situation) for situation in SITUATIONS}


def test_every_rule_is_triggered_by_some_scenario(all_advice):
    fired = {a.id for _, advice in all_advice.values() for a in advice}
    assert fired == {r.id for r in load_rules()}


def test_every_text_names_its_reason(all_advice):
    for _, advice in all_advice.values():
        for a in advice:
            assert len(a.reason) > 30 and a.reason not in a.text
            assert "{" not in a.text  # every placeholder was filled


def test_cadence_target_is_computed_from_the_wearers_cadence():
    assert target_cadence(160) == (168, 176)
    flags, advice = _advice("run-sustained-anterior", "running", "during", UserProfile())
    (cadence_tip,) = [a for a in advice if a.id == "run-tilt-cadence"]
    assert "aim for 176-185 steps/min (you are at 168)" in cadence_tip.text
    assert cadence_tip.because_of == ("sustained_anterior_tilt",)
    assert advice[0].id == "run-tilt-cadence"  # most important first


def test_no_flags_no_corrective_advice_but_always_the_professional_note():
    _, during = _advice("easy-run-neutral", "running", "during", UserProfile())
    assert during == []
    _, after = _advice("easy-run-neutral", "running", "after", UserProfile())
    assert [a.id for a in after] == ["see-professional"]


def test_side_specific_texts():
    _, advice = _advice("run-asymmetric-drop", "running", "after", UserProfile())
    (side,) = [a for a in advice if a.id == "after-drop-side"]
    assert "Your right side dropped most" in side.text and "on your left leg" in side.text
    _, advice = _advice("run-fatigue-creep", "running", "after", UserProfile(sore_side="right"))
    (test,) = [a for a in advice if a.id == "after-hip-flexor-test"]
    assert "left hip flexor" in test.text


def test_riding_gets_riding_advice_only():
    _, advice = _advice("ride-fatigue", "riding", "after", UserProfile())
    assert {a.id for a in advice} == {"ride-forward-roll", "ride-rock-growth", "see-professional"}


def test_malformed_rules_are_refused(tmp_path):
    bad = tmp_path / "advice.toml"
    bad.write_text('[[rule]]\nid = "x"\nwhen = "later"\nflags = ["tilt"]\nactivity = ["running"]\npriority = 1\n'
                   'text = "do {this}"\nreason = "because"\nrefs = []\n')
    with pytest.raises(AdviceRulesError, match="'x'.*when must be.*unknown flags.*unknown placeholders"):
        load_rules(bad)
    bad.write_text('[[rule]]\nid = "y"\nwhen = "after"\n')
    with pytest.raises(AdviceRulesError, match="lacks"):
        load_rules(bad)
