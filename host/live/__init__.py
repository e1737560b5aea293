"""`tiltguard live`: the live view (docs/live.md).

Qt-free core (importable and testable without a display):
  calibration.py  guided neutral stand, then the first strides set the forward axis
  angles.py       causal pelvic angles (tilt, obliquity, rotation) from the streaming orientation
  strides.py      live contacts -> stride records, step means, cadence
  pipeline.py     decoded samples -> angles, strides, flag events with advice, readouts
  link.py         the device connection on its own thread: transport + Recorder into the store + pipeline
Qt (PySide6 + pyqtgraph): palette.py, plots.py, dialogs.py, settings.py, window.py, app.py.
"""
