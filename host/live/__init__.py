"""`tiltguard live`: the live view (docs/live.md). Only the view and its connection live here; the causal
stages sit beside their post-session twins (docs/architecture.md) and host/live_analysis.py composes them.

Qt-free: link.py (the device connection on its own thread: transport + Recorder into the store + the live
analysis), simlink.py (the built-in simulated device), report.py (the report at Stop).
Qt (PySide6 + pyqtgraph): palette.py, plots.py, dialogs.py, settings.py, sound.py, window.py, app.py.
"""
