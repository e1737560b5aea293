"""Activity labels shared by the simulator's truth, activity segmentation, flags and reports."""

ACTIVITIES = ("still", "walking", "running", "riding", "other")  # index = activity code
GAIT_ACTIVITIES = ("walking", "running")
