"""Text from devices and files, made safe for a terminal: a device name or a file's meta is not allowed to
move the cursor, recolour the screen or retitle the window (control codes are shown escaped instead)."""
from __future__ import annotations


def printable(value, limit: int = 80) -> str:
    """`value` as one line of plain text: control and format characters (ESC, CR, bidi overrides, ...)
    written as \\xNN / \\uNNNN, cut to `limit` characters."""
    s = value if isinstance(value, str) else str(value)
    out = []
    for c in s:
        if c.isprintable():
            out.append(c)
        elif ord(c) < 0x100:
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
    text = "".join(out)
    return text if len(text) <= limit else text[: limit - 1] + "…"
