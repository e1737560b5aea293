"""A GPS watch's or bike computer's FIT file next to the pod's session (docs/watch.md).

read_fit → WatchStream; align_watch (the watch's cadence against the pod's own strides → clock offset with
its uncertainty, or a refusal); merge_watch (pace, grade, heart rate per stride and per second);
pace_grade_bands (tilt, drop, cadence by pace and grade band, the pace threshold of sustained anterior
tilt) and watch_advice; write_fit_export / write_tables (the session back out as FIT or CSV).

The stage sits above the post-session analysis (it reads its strides) and below the store and the entry
points; it never imports the simulator.
"""
