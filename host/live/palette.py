"""Colours and type sizes of the live view.

Colours: the Okabe-Ito palette (Okabe & Ito 2008), distinguishable with every common colour-vision
deficiency; left is blue and right orange everywhere, and nothing relies on red versus green.
Sizes: the readouts must be readable from a treadmill or a trainer, ~2 m away. Text of height h is
comfortably read to ~ h x 150, so 2 m wants ~13 mm: 44-pt digits (~15 mm cap height on a 96-dpi screen);
the banner at 26 pt and the axes at 14 pt stay readable from there too.
"""
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"

TILT = BLACK
OBLIQUITY = BLUISH_GREEN
ROTATION = REDDISH_PURPLE
CADENCE = BLUE
PEDAL = BLACK  # pedal cadence, in the cadence plot beside the step cadence
LEFT = BLUE
RIGHT = ORANGE
THRESHOLD = VERMILLION
NEUTRAL_BAND = (86, 180, 233, 70)  # sky blue, translucent
FLAG_SPAN = (213, 94, 0, 40)  # vermillion, faint
BACKGROUND = "#FFFFFF"
FOREGROUND = "#222222"
FLAG_BANNER = (VERMILLION, "#FFFFFF")  # background, text
CLEAR_BANNER = (BLUISH_GREEN, "#FFFFFF")
INFO_BANNER = (SKY_BLUE, BLACK)

READOUT_PT = 44
READOUT_TITLE_PT = 15
BANNER_PT = 26
AXIS_PT = 14
STATUS_PT = 13
