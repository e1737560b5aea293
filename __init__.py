"""Tiltguard: an open sacrum-worn IMU that watches a runner's or rider's pelvis.

One import name for the whole project; the folders keep the product's layout (docs/architecture.md):
`tiltguard.sensors` and `tiltguard.firmware` (device and wire), `tiltguard.calibration`, `tiltguard.host`.
This file also goes onto the device (MicroPython), so it imports nothing.
"""
