"""Drill engine accuracy (issue 20, docs/drills.md "Sets, reps, holds, rest"): what tells a rep from a fidget,
the set's own rhythm, two-way pairing, a new starting posture before a hold, and the sides of per-set drills,
on simulated people whose sessions once went wrong (the simulator's truth, not the engine's own numbers)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from tiltguard.host.drills import DRILLS, DrillTracker, analyse_recording
from tiltguard.host.drills.reps import same_movement
from tiltguard.host.drills.results import RepResult, SetResult
from tiltguard.host.simulator.drills import SHALLOW_BOW_DEG, simulate_drill
from tiltguard_eval.drill_scoring import score_result, score_simulated


def test_a_rep_goes_the_sets_way_a_fidget_does_not():
    typical = np.array([8.0, 0.5, 6.0])  # prone hip extension, left leg: arch and the left hip up
    assert same_movement(np.array([2.5, 0.7, 2.0]), typical, 1.5)  # a good, small rep of the same set
    assert same_movement(np.array([4.0, 0.2, 1.0]), typical, 1.5)  # arching with little twist
    assert not same_movement(np.array([-4.0, 2.0, 1.0]), typical, 1.5)  # tipping back: not this lift
    assert not same_movement(np.array([3.0, 0.0, -6.0]), typical, 1.5)  # the other hip up: the other side
    assert not same_movement(np.array([1.0, -0.8, 0.7]), typical, 1.5)  # a twitch under `enter` along it


def _sides(spec_name, side_angles):
    """Sides given to found sets whose reps have these side-angle values at their tops."""
    spec = DRILLS[spec_name]
    tr = DrillTracker(spec, 100.0)
    for values in side_angles:
        reps = [RepResult(0, 1, 2, None, 0.0, 0.0, v if spec.side_angle == "obliquity" else 0.0,
                          v if spec.side_angle == "rotation" else 0.0, 5.0) for v in values]
        tr.result.sets.append(SetResult(0, 1, None, spec.position, reps))
    tr._assign_sides()
    return [s.side for s in tr.result.sets]


def test_a_lost_set_does_not_swap_the_sides_of_the_sets_after_it():
    # left, right, left, right asked; the first right set was not found: the reps' pull says so
    assert _sides("kickstand-rdl", [[3, 2, 4], [2, 3, 2], [-3, -2, -4]]) == ["left", "left", "right"]
    # no side information (angles under 1 deg): the order the guidance asked for
    assert _sides("kickstand-rdl", [[0.5, -0.4], [0.2, 0.3], [-0.6, 0.1]]) == ["left", "right", "left"]
    # one stray rep does not overturn the order
    assert _sides("twisted-warrior", [[4, 5, -2, 6], [-4, -5, -3, -6, -2]]) == ["left", "right"]


@pytest.mark.parametrize("drill,seed", [
    ("twisted-warrior", 10),  # fidgets just before a set, a posture change into it, big faulty turns
    ("banded-hip-twist", 0),  # a half turn counted alone shifted the out-and-back pairs after it
    ("single-leg-stance", 8),  # stepping into position, then lifting the foot: two moves, one hold
    ("prone-hip-extension", 11),  # long pauses within a set, fidgets through the rest
])
def test_sessions_that_once_went_wrong_count_every_set_exactly(drill, seed):
    sc, truth, _ = score_simulated(drill, seed)
    assert sc.count_errors == [0] * len(truth.sets)
    assert sc.false_reps == 0
    m = sc.metrics()
    assert m["tilt_excursion_rmse_deg"] < 1.0 and m["obliquity_excursion_rmse_deg"] < 1.0
    assert m["rotation_excursion_rmse_deg"] < 1.5


def test_slow_held_reps_are_not_learned_as_gyro_bias():
    """A bird dog's 2-4° rock held at the top turns the pelvis under 2°/s for over 1.5 s: the orientation
    filter's rest test (the gyro's wobble, not its size) took it for rest and learned the turn as a gyro bias
    of ~0.5°/s, which then tipped the pelvis ~1.5° between reps and merged two reps into one (2 of 16 lost
    in each of two sets). In a set it learns only between reps, where the pelvis is quiet for 1.5 s."""
    sc, truth, _ = score_simulated("bird-dog", 2)  # good control: small rocks, short pauses
    assert sc.count_errors == [0] * len(truth.sets)
    m = sc.metrics()
    assert m["tilt_excursion_rmse_deg"] < 1.0 and m["rotation_excursion_rmse_deg"] < 1.0


@pytest.mark.parametrize("seed,why", [
    (2, "a rest fidget tipped the pelvis back 4.6° and stayed; later fidgets dipped it and back: 3 holds"),
    (5, "the start re-taken at a fidget's top: its way back read as a 5° tuck held 7 s"),
    (1, "a shifted posture held 7 s counted as a hold, and the real hold after it lost"),
])
def test_fidgets_at_rest_are_not_hip_flexor_tucks(seed, why):
    """The kneeling hip-flexor test's tuck is a hold of a few degrees of posterior tilt, and so is a fidget at
    rest that tips the pelvis back and stays. A hold ends when the person relaxes back into the starting
    posture (every angle, not only the counted one) and stays there; a shifted posture dipped by fidgets
    never does and runs past the longest hold. The start is where the pelvis rests 1 s, not the instant a
    fidget turns round. A set of the test is its one hold."""
    sc, truth, _ = score_simulated("hip-flexor-test", seed)
    assert sc.false_reps == 0, why
    assert sc.count_errors == [0] * len(truth.sets), why


@pytest.mark.parametrize("drill,seed,why", [
    ("hamstring-isometric", 0, "a partial press of 2.8° (half a hold) was taken for settling into a new posture"),
    ("hamstring-isometric", 1011, "the same, two 2.2° presses of a person who presses 3.5° at most"),
    ("hamstring-isometric", 2, "a slow 2.4° press still rose at 1°/s 0.25 s before its top: held 0.53 s long"),
    ("single-leg-stance", 2, "the gyro's heading drifted 1.7° over a 20-s stance: the relax never looked back"),
    ("single-leg-stance", 3, "fidgets shifted the posture in a set left open after its stance; the next lost"),
    ("prone-hip-extension", 9, "a poor-control person's 13° faulty lifts set the bar over 1.7°, 1.5° partial lifts"),
])
def test_partial_holds_and_reps_count(drill, seed, why):
    sc, truth, _ = score_simulated(drill, seed)
    spec = DRILLS[drill]
    assert sc.count_errors == [0] * len(truth.sets), why
    assert sc.false_reps == 0, why
    if spec.hold_s:
        assert sc.metrics()["hold_error_max_s"] < 0.5


def test_left_vs_right_is_scored_against_what_the_person_did():
    """The simulated person's left hip flexor is 5° tighter, but both right holds were partial (half height):
    the holds done show no clear difference even to a perfect sensor, and the engine says so. The bench
    scores the engine against the engine's own rule on the true holds, and keeps the label's score beside."""
    from tiltguard_eval.drill_scoring import truth_reps, truth_sides_verdict

    rec, truth = simulate_drill("hip-flexor-test", seed=0)
    spec = DRILLS["hip-flexor-test"]
    true = truth_reps(truth, spec)
    assert truth.person.asymmetry == "left" and truth.sides_verdict == "left worse"
    assert [r["partial"] for reps in true for r in reps if r["side"] == "right"] == [True, True]
    assert truth_sides_verdict(true, spec) == "no clear difference"
    result = analyse_recording(rec, spec)
    sc = score_result(result, truth, spec)
    assert sc.side_calls == [("no clear difference", result.sides.verdict)]
    assert sc.label_calls == [("left worse", result.sides.verdict)]
    assert result.sides.verdict == "no clear difference"
    # and a person whose holds do show it: the rule on the true holds calls the tight side
    rec, truth = simulate_drill("hip-flexor-test", seed=10)
    assert truth_sides_verdict(truth_reps(truth, spec), spec) == "right worse"
    assert analyse_recording(rec, spec).sides.verdict == "right worse"


@pytest.mark.parametrize("seed,why", [
    (1004, "moved onto a new heading on the floor, then straight into the reps: 8 and 7 reps lost"),
    (1011, "the same: the set counted from its seventh rep"),
])
def test_a_bird_dog_set_started_straight_after_a_move_on_the_floor(seed, why):
    """On hands and knees, turning onto a new heading shows as obliquity (a turn about the vertical, which no
    rep does): past 12° it is a new posture after 1.5 s of stillness, not after the 3 s a held rep may last.
    And an excursion that runs past the longest rep while the set is not under way was a move into a new
    posture: the count restarts at the first stillness in it, dropping the fidgets before."""
    sc, truth, _ = score_simulated("bird-dog", seed)
    assert sc.count_errors == [0] * len(truth.sets), why
    assert sc.false_reps == 0


def test_the_inclination_has_settled_when_the_set_starts():
    """Lying down on hands and knees leaves ~1° of gyro scale error in the inclination; with VQF's 3-s time
    constant it was still going when the reps began 2 s later, so the set's start was 1° off and the pelvis
    read 1.2° of posterior tilt between reps that was not there: a 2° rock then did not rise far enough
    from it to count (2 reps lost in each of two sets). Resting, the inclination follows gravity in 1 s."""
    rec, truth = simulate_drill("bird-dog", seed=8)
    spec = DRILLS["bird-dog"]
    result = analyse_recording(rec, spec)
    sc = score_result(result, truth, spec)
    assert sc.count_errors == [0] * len(truth.sets)
    m = sc.metrics()
    assert m["tilt_excursion_rmse_deg"] < 0.4 and m["rotation_excursion_rmse_deg"] < 0.4


@pytest.mark.parametrize("drill,seed", [("single-leg-bridge", 1008), ("twisted-warrior", 8)])
def test_fidgets_after_the_dose_and_a_pause_are_not_reps(drill, seed):
    """After the dose the guidance asked for (8 bridges, 5 turns), fidgets at rest within the 10 s the set
    stays open went the set's way and were counted: the dose done, a "rep" after a pause longer than two
    typical reps is rest (more reps in rhythm still count)."""
    sc, truth, _ = score_simulated(drill, seed)
    assert sc.count_errors == [0] * len(truth.sets)
    assert sc.false_reps == 0


def test_reps_past_the_dose_in_rhythm_still_count():
    spec = DRILLS["single-leg-bridge"]  # the dose is 8 per side
    for seed in (0, 1):
        rec, truth = simulate_drill("single-leg-bridge", seed=seed, reps=10, sets=2)
        sc = score_result(analyse_recording(rec, spec), truth, spec)
        assert [len(s["reps"]) for s in truth.sets] == [10, 10]
        assert sc.count_errors == [0, 0] and sc.false_reps == 0


def test_the_bow_frames_heading_error_is_bounded_by_the_one_signed_drop():
    """A bow leaning sideways turns the standing drills' left axis by ψ about the vertical; a 35-55° hinge
    then reads -sin ψ sin(hinge) of obliquity on both sides. The kickstand hip only ever drops (left leg:
    obliquity >= 0, right leg: <= 0), so both sides' reps bound the error: a symmetric person's bounds pin
    it, an asymmetric person's (one side's drop 6° worse) leave the bow's own frame standing."""
    from tiltguard.host.drills.heading import heading_bounds, heading_error_deg, reframe

    rng = np.random.default_rng(4)
    psi = 5.0  # the bow's frame is turned 5° about the vertical

    def reps(side, extra, turn=psi):
        hinge = rng.uniform(35.0, 55.0, 24)
        drop = rng.uniform(0.5, 3.5, 24) + extra
        return [(h, side * d - np.degrees(np.sin(np.radians(turn)) * np.sin(np.radians(h))))
                for h, d in zip(hinge, drop)]

    symmetric = heading_bounds(reps(1, 0.0), reps(-1, 0.0))
    h = -np.degrees(np.sin(np.radians(psi)))
    assert symmetric[0] <= h <= symmetric[1] and symmetric[1] < 0.0  # the bow's frame (h = 0) is outside
    assert abs(heading_error_deg(symmetric, 30.0) - psi) < 1.5  # from 5° to under 1.5°
    # the left side 6° worse: its bound moves out past the bow's frame, which is kept (no asymmetry erased)
    asymmetric = heading_bounds(reps(1, 6.0), reps(-1, 0.0))
    assert asymmetric[0] <= h <= asymmetric[1] and heading_error_deg(asymmetric, 30.0) == 0.0
    assert heading_bounds(reps(1, 0.0)[:2], reps(-1, 0.0)) is None  # one side barely done: nothing to go by
    # a bow to a nearly level back (55°) knows its heading to ~1.4° (a 2° lean turns it 1.5°): the mean under
    # that spread is taken even when the bow's own frame lies inside the bounds (a 30° bow's frame stays there),
    # and an asymmetric person's wide bound does not pull it (the asymmetry is kept)
    inside = (-2.0, 0.5)  # a symmetric person's reps: the bow's frame near one end
    assert heading_error_deg(inside, 30.0) == 0.0
    assert 0.4 < heading_error_deg(inside, 55.0) < 1.0
    asymmetric = heading_bounds(reps(1, 6.0, 1.5), reps(-1, 0.0, 1.5))
    assert asymmetric[0] < 0.0 < asymmetric[1] and abs(heading_error_deg(asymmetric, 55.0)) < 0.3
    # the angles measured in the turned frame, turned back: a 45° hinge with a 3° drop and a 2° twist
    true = np.array([[45.0, 3.0, 2.0]])
    c, s = np.cos(np.radians(psi)), np.sin(np.radians(psi))
    rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    r = Rotation.from_euler("ZXY", true[0, ::-1], degrees=True).as_matrix()
    measured = Rotation.from_matrix(rz @ r @ rz.T).as_euler("ZXY", degrees=True)[::-1]
    assert abs(measured[1] - true[0, 1]) > 3.0  # the frame error leaks 3.5° into obliquity
    assert np.allclose(reframe(measured[None, :], psi), true, atol=1e-6)


@pytest.mark.parametrize("seed,why", [
    (1002, "the bow leant sideways: the frame turned 5°, a symmetric person read 'right worse', 3.4° RMS"),
])
def test_kickstand_frame_heading_from_both_sides_reps(seed, why):
    """A symmetric person whose bow leant sideways: both sides' reps show the bow's frame outside their
    bounds, the frame is turned back and every rep re-measured when the session ends."""
    rec, truth = simulate_drill("kickstand-rdl", seed=seed, bow_deg=SHALLOW_BOW_DEG)
    spec = DRILLS["kickstand-rdl"]
    result = analyse_recording(rec, spec)
    sc = score_result(result, truth, spec)
    assert truth.person.asymmetry == "none"
    assert result.sides.verdict == "no clear difference", why
    assert sc.metrics()["obliquity_excursion_rmse_deg"] < 1.0, why
    assert sc.count_errors == [0] * len(truth.sets)
    # the result says the bow was shallow, and that the frame was turned
    assert len(result.notes) == 2 and "deep" in result.notes[0] and "turned" in result.notes[1]


@pytest.mark.parametrize("drill,seed,why", [
    ("kickstand-rdl", 6, "a 75° hinge from a start bent 5° forward passed 80° from standing: 'position left'"),
    ("twisted-warrior", 1008, "three rest fidgets (tips, not turns) made a set; five turns with three pauses"),
])
def test_a_deep_hinge_fidgets_that_do_not_turn_and_pauses_for_breath(drill, seed, why):
    """A hinge within what the counter takes for a rep is no leaving the position; a twisted warrior's set
    is turns of the pelvis about the vertical; the dose asked for, all one movement, is the set however
    long the pauses between its reps."""
    sc, truth, _ = score_simulated(drill, seed)
    assert sc.count_errors == [0] * len(truth.sets), why
    assert sc.false_reps == 0, why


@pytest.mark.parametrize("seed", [2, 1010])  # 2-deg bird-dog reaches held ~1 s, breathing rocking the tilt
def test_a_short_hold_is_timed_on_the_counted_movement_not_the_breathing(seed):
    # the reach slows into its top while breathing rocks the tilt at ~0.4 deg/s: the hold's ends are where
    # the counted movement stops, against its own sway (these were timed 0.66 s and 0.60 s too long on the whole
    # pelvis' speed alone)
    sc, _, _ = score_simulated("bird-dog", seed)
    assert len(sc.hold_errors) >= 14
    assert max(abs(e) for e in sc.hold_errors) < 0.5
