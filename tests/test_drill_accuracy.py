"""Drill engine accuracy (issue 20, docs/drills.md "Sets, reps, holds, rest"): what tells a rep from a fidget,
the set's own rhythm, two-way pairing, a new starting posture before a hold, and the sides of per-set drills,
on simulated people whose sessions once went wrong (the simulator's truth, not the engine's own numbers)."""
from __future__ import annotations

import numpy as np
import pytest
from tiltguard.host.drills import DRILLS, DrillTracker, analyse_recording
from tiltguard.host.drills.reps import same_movement
from tiltguard.host.drills.results import RepResult, SetResult
from tiltguard.host.simulator.drills import simulate_drill
from tiltguard_eval.drill_scoring import score_result


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
    rec, truth = simulate_drill(drill, seed=seed)
    spec = DRILLS[drill]
    sc = score_result(analyse_recording(rec, spec), truth, spec)
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
    rec, truth = simulate_drill("bird-dog", seed=2)  # good control: small rocks, short pauses
    spec = DRILLS["bird-dog"]
    sc = score_result(analyse_recording(rec, spec), truth, spec)
    assert sc.count_errors == [0] * len(truth.sets)
    m = sc.metrics()
    assert m["tilt_excursion_rmse_deg"] < 1.0 and m["rotation_excursion_rmse_deg"] < 1.0
