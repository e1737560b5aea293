"""Calibration: gyro bias at rest (gyro_bias), the optional six-position accelerometer fit
(accel_six_position), sensor-to-pelvis alignment (stand, alignment, hinge).

The sensor calibrations sit below orientation in the data flow, the alignment above it
(docs/architecture.md), so this package re-exports nothing: import from the module you need. Calibrations
are kept per device, with the time they were made, in the session store (host.store)."""
