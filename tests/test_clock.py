"""Clock mapping and arrival bookkeeping with known truth: drift, offset, gaps, duplicates, reordering,
and the 32-bit wraps of the device clock and of sequence numbers."""
from __future__ import annotations

import numpy as np
import pytest
from tiltguard.host.clock import ClockMap, DeviceTime, SeqTracker, index_gaps


def test_drift_and_offset_recovered_from_jittery_arrivals():
    rng = np.random.default_rng(4)
    drift_ppm, offset = 85.0, 1_700_000_000.25
    dev_us = np.arange(0, 600e6, 50e3)  # a frame every 50 ms for 10 minutes
    latency = 0.004 + rng.exponential(0.012, len(dev_us))  # never below 4 ms, long tail (BLE intervals)
    latency[rng.random(len(dev_us)) < 0.01] += 0.5  # stalls
    host = offset + dev_us * 1e-6 * (1 + drift_ppm * 1e-6) + latency
    cm = ClockMap()
    for d, h in zip(dev_us, host):
        cm.add(d, h)
    fit = cm.fit()
    assert fit.drift_ppm == pytest.approx(drift_ppm, abs=3.0)
    # mapped time sits at the minimum-latency edge: offset + 4 ms, within a millisecond
    mapped = fit.to_host(dev_us)
    true_edge = offset + 0.004 + dev_us * 1e-6 * (1 + drift_ppm * 1e-6)
    assert np.max(np.abs(mapped - true_edge)) < 1e-3
    assert np.all(mapped <= host + 1e-9)  # never maps a sample after its own arrival


def test_device_time_unwraps_across_the_32_bit_wrap_even_out_of_order():
    dt = DeviceTime()
    near = (1 << 32) - 1000
    assert dt.unwrap(near) == near
    assert dt.unwrap(500) == (1 << 32) + 500  # wrapped forward
    assert dt.unwrap(near + 10) == near + 10  # a late frame from before the wrap stays before it


def test_seq_tracker_reports_gaps_duplicates_reordering_and_fills():
    tr = SeqTracker()
    for s in [0, 1, 2, 5, 6, 4, 6, 9]:
        tr.add(s)
    assert tr.missing_ranges() == [(3, 3), (7, 8)]
    assert tr.duplicates == 1 and tr.reordered == 1
    assert tr.add(3, resent=True) == "filled" and tr.reordered == 1  # a resend is not reordering
    assert tr.missing_ranges() == [(7, 8)]
    assert tr.give_up(7, 8) == 2 and tr.missing_ranges() == []


def test_seq_tracker_across_the_sequence_wrap():
    tr = SeqTracker()
    top = (1 << 32) - 2
    tr.add(top)
    tr.add(1)  # after the wrap: 2**32 - 1 and 0 never arrived
    missing = sorted(s % (1 << 32) for s in tr.missing)
    assert missing == [0, (1 << 32) - 1]


def test_index_gaps_counts_samples_lost_on_the_device():
    idx = np.r_[0:100, 105:200, 201:250]
    assert index_gaps(idx) == [(100, 5), (200, 1)]
