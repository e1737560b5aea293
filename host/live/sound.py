"""The flag sounds: a rising two-note chime when a flag starts, a falling one when it ends, so a coach
across the room hears which without looking. Played through QtMultimedia when the machine has an audio
output; otherwise (or if QtMultimedia fails) the platform beep."""
from __future__ import annotations

import io
import logging
import tempfile
import wave
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

RATE_HZ = 22050
NOTE_S = 0.16
NOTES_HZ = {"start": (660.0, 880.0), "end": (880.0, 660.0)}  # a fourth up / down
VOLUME = 0.5


def chime_wav(kind: str) -> bytes:
    """16-bit mono WAV of the chime for 'start' or 'end': two notes with soft attack and decay (no clicks)."""
    if kind not in NOTES_HZ:
        raise ValueError(f"kind must be one of {sorted(NOTES_HZ)}, got {kind!r}")
    t = np.arange(int(NOTE_S * RATE_HZ)) / RATE_HZ
    envelope = np.minimum(1.0, t / 0.01) * np.exp(-t / (0.4 * NOTE_S))
    signal = np.concatenate([envelope * np.sin(2 * np.pi * f * t) for f in NOTES_HZ[kind]])
    pcm = np.round(VOLUME * 32767 * signal).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE_HZ)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


class Chimes:
    """Create on the Qt thread after the QApplication. `play(kind)` never raises."""

    def __init__(self) -> None:
        self._effects = {}
        self._dir = None
        try:
            from PySide6.QtCore import QUrl
            from PySide6.QtMultimedia import QMediaDevices, QSoundEffect

            if not QMediaDevices.audioOutputs():
                return  # no speaker: the beep
            self._dir = tempfile.TemporaryDirectory(prefix="tiltguard-sound-")
            for kind in NOTES_HZ:
                path = Path(self._dir.name) / f"{kind}.wav"
                path.write_bytes(chime_wav(kind))
                effect = QSoundEffect()
                effect.setSource(QUrl.fromLocalFile(str(path)))
                self._effects[kind] = effect
        except Exception as exc:  # noqa: BLE001 - no multimedia backend: the beep still works. Where
            # libpulse.so.0 is missing the import fails with an ImportError (not a ModuleNotFoundError), or an
            # OSError from the loader; both land here, as does a backend that fails to start
            log.info("flag chimes unavailable (%s); using the system beep", exc)
            self._effects = {}

    @property
    def uses_beep(self) -> bool:
        return not self._effects

    def play(self, kind: str) -> None:
        effect = self._effects.get(kind)
        if effect is not None:
            effect.play()
            return
        # QtMultimedia may be missing (no libpulse): loaded where it is tried, with the beep as fallback
        from PySide6.QtWidgets import QApplication

        QApplication.beep()
