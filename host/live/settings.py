"""What the live view remembers between runs (QSettings: the platform's usual place, or an .ini file
given by the caller, as the tests do)."""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

WINDOW_CHOICES_S = (10, 20, 30, 60)
DEFAULTS = {"window_s": 30, "sound": True, "record": True, "source_kind": "sim",
            "source_target": "run-sustained-anterior"}


class LiveSettings:
    def __init__(self, path: str | None = None) -> None:
        self.q = QSettings(path, QSettings.IniFormat) if path else QSettings("Tiltguard", "live")

    def _get(self, key: str, kind):
        value = self.q.value(key, DEFAULTS[key])
        if kind is bool and isinstance(value, str):  # ini files hand booleans back as text
            return value.lower() in ("true", "1", "yes")
        try:
            return kind(value)
        except (TypeError, ValueError):
            return DEFAULTS[key]

    @property
    def window_s(self) -> int:
        v = self._get("window_s", int)
        return v if v in WINDOW_CHOICES_S else DEFAULTS["window_s"]

    @window_s.setter
    def window_s(self, v: int) -> None:
        self.q.setValue("window_s", int(v))

    @property
    def sound(self) -> bool:
        return self._get("sound", bool)

    @sound.setter
    def sound(self, v: bool) -> None:
        self.q.setValue("sound", bool(v))

    @property
    def record(self) -> bool:
        return self._get("record", bool)

    @record.setter
    def record(self, v: bool) -> None:
        self.q.setValue("record", bool(v))

    @property
    def source(self) -> tuple[str, str]:
        return self._get("source_kind", str), self._get("source_target", str)

    @source.setter
    def source(self, kind_target: tuple[str, str]) -> None:
        self.q.setValue("source_kind", kind_target[0])
        self.q.setValue("source_target", kind_target[1])

    def geometry(self) -> tuple[QByteArray | None, QByteArray | None]:
        return self.q.value("geometry"), self.q.value("state")

    def save_geometry(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("geometry", geometry)
        self.q.setValue("state", state)

    def sync(self) -> None:
        self.q.sync()
