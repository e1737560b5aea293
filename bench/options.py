"""Command-line options every bench shares, so any bench can be called the same way."""
from __future__ import annotations

import argparse

DATASETS = ("broad", "mobgap", "running")  # folders of ../shared/data (or $TILTGUARD_DATA)


def add_data_options(ap: argparse.ArgumentParser, reads: tuple[str, ...] = ()) -> None:
    """--broad DIR / --mobgap DIR / --running DIR on every bench. The folders a bench `reads` default to $TILTGUARD_DATA/<name>
    or ../shared/data/<name>; the others are accepted and ignored (that bench uses simulated data only)."""
    for name in DATASETS:
        if name in reads:
            text = f"{name} folder (default: $TILTGUARD_DATA/{name} or ../shared/data/{name})"
        else:
            text = "not read by this bench (it uses simulated data); accepted like every bench's"
        ap.add_argument(f"--{name}", metavar="DIR", help=text)
