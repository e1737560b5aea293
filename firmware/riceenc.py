"""The per-sample hot loop of the flash-log codec (firmware/logcodec.py): one group of int16 channels,
predicted and Rice-coded into a bit stream. Compiled by MicroPython's viper emitter on the device; the same
source runs as plain Python on CPython (the decorator is a no-op there, see sensors/compat.py) and, with the
decorator stripped, as bytecode on the unix port (tests compare all three byte for byte).

A group is `nc` channels of `n` int16 values each, read little-endian from `src` at byte offset
`st[P_OFF] + 2*c + i*st[P_STRIDE]`. The group shares one Rice parameter k and one predictor order (1: the
previous value, 2: linear extrapolation of the last two, 3: quadratic through the last three), both chosen
here from the sums of the zig-zagged residuals (the smallest sum's order, then k = floor(log2(mean))). They
are written first: the order ("1" order 2, "00" order 1, "01" order 3), then k against the group's k in the
previous frame ("1" the same, "010" one more, "011" one less, else "00" and its 5 bits). Each value is then
`q` zero bits, a one bit and the k low bits of its zig-zagged residual, q = zz >> k; when q would reach QMAX
the code is QMAX zero bits and the 20-bit zig-zagged residual instead (a third difference of int16 values
needs at most 20 bits), which bounds any value to QMAX + 20 bits.

State lives in the int32 array `st` so the function allocates nothing: the bit writer (pending bits, their
count, the output position) and, per channel, the last two values and how many values the block has seen
(the predictor restarts at every block so that every block decodes on its own).
"""
try:
    import micropython
    from micropython import const
except ImportError:  # CPython
    from tiltguard.sensors.compat import const, micropython

    def ptr8(b):  # viper's casts are compiler built-ins; on CPython the objects index the same way
        return b

    def ptr32(b):
        return b


QMAX = const(20)  # quotient at which a value is escaped to its raw bits
RAW_BITS = const(20)
KBITS = const(5)
KMAX = const(19)

# st layout
W_ACC = const(0)  # pending bits (< 8 of them)
W_NB = const(1)  # how many
W_POS = const(2)  # next byte of out
P_OFF = const(3)  # group parameters: byte offset of channel 0's first value in src
P_STRIDE = const(4)  # bytes between a channel's consecutive values
P_N = const(5)  # values per channel
P_NC = const(6)  # channels in the group
P_CH = const(7)  # index of the group's first channel in the predictor table
P_NG = const(8)  # groups coded by one call: group g starts 2*g*nc bytes and g*nc channels further on
PRED = const(9)  # per channel: the last three values, values seen in this block (4 ints each)
CHANNELS = const(10)  # 6 sample axes + 4 quaternion components
KPREV = const(49)  # PRED + 4 * CHANNELS: per group (by its first channel), the k of its previous frame
STATE_LEN = const(59)  # KPREV + CHANNELS


@micropython.viper
def code_group(src, out, st):
    s = ptr8(src)
    o = ptr8(out)
    t = ptr32(st)
    stride = int(t[P_STRIDE])
    n = int(t[P_N])
    nc = int(t[P_NC])
    ng = int(t[P_NG])
    g = 0
    while g < ng:  # groups of one call (a frame's six axes): a call costs more than a group
        off = int(t[P_OFF]) + 2 * g * nc
        ch0 = int(t[P_CH]) + g * nc
        # pass 1: the residual sums of the three predictors
        s1 = 0
        s2 = 0
        s3 = 0
        c = 0
        while c < nc:
            b = PRED + 4 * (ch0 + c)
            x1 = ((int(t[b]) + 0x8000) & 0xFFFF) - 0x8000  # int16 state, sign restored (ptr32 may zero-extend)
            x2 = ((int(t[b + 1]) + 0x8000) & 0xFFFF) - 0x8000
            x3 = ((int(t[b + 2]) + 0x8000) & 0xFFFF) - 0x8000
            cnt = int(t[b + 3])
            p = off + 2 * c
            i = 0
            while i < n:
                v = ((int(s[p]) | (int(s[p + 1]) << 8)) + 0x8000 & 0xFFFF) - 0x8000
                e1 = v - x1
                e2 = e1 - x1 + x2
                e3 = e2 - x1 + 2 * x2 - x3
                if cnt < 3:  # the block's first values: lower orders until there is history for them
                    e3 = e2
                    if cnt < 2:
                        e2 = e1
                        e3 = e1
                        if cnt == 0:
                            e1 = v
                            e2 = v
                            e3 = v
                s1 += (e1 << 1) if e1 >= 0 else ((0 - e1) << 1) - 1
                s2 += (e2 << 1) if e2 >= 0 else ((0 - e2) << 1) - 1
                s3 += (e3 << 1) if e3 >= 0 else ((0 - e3) << 1) - 1
                x3 = x2
                x2 = x1
                x1 = v
                cnt += 1
                p += stride
                i += 1
            c += 1
        order = 2
        total = s2
        if s1 <= total:
            order = 1
            total = s1
        if s3 < total:
            order = 3
            total = s3
        m = n * nc
        k = 0
        while k < KMAX and (m << (k + 1)) <= total:
            k += 1
        # the group's header: the order, then k against the k of this group's previous frame
        kb = KPREV + ch0
        kp = int(t[kb])
        t[kb] = k
        acc = int(t[W_ACC])
        nb = int(t[W_NB])
        pos = int(t[W_POS])
        if order == 2:
            acc = (acc << 1) | 1
            nb += 1
        else:
            acc = (acc << 2) | (order >> 1)  # "00" order 1, "01" order 3
            nb += 2
        if k == kp:
            acc = (acc << 1) | 1
            nb += 1
        elif k == kp + 1:
            acc = (acc << 3) | 2
            nb += 3
        elif k == kp - 1:
            acc = (acc << 3) | 3
            nb += 3
        else:
            acc = (acc << (2 + KBITS)) | k
            nb += 2 + KBITS
        while nb >= 8:
            nb -= 8
            o[pos] = (acc >> nb) & 0xFF
            pos += 1
        acc &= (1 << nb) - 1
        # pass 2: the codes, and the predictor state carried to the next group of these channels
        c = 0
        while c < nc:
            b = PRED + 4 * (ch0 + c)
            x1 = ((int(t[b]) + 0x8000) & 0xFFFF) - 0x8000
            x2 = ((int(t[b + 1]) + 0x8000) & 0xFFFF) - 0x8000
            x3 = ((int(t[b + 2]) + 0x8000) & 0xFFFF) - 0x8000
            cnt = int(t[b + 3])
            p = off + 2 * c
            i = 0
            while i < n:
                v = ((int(s[p]) | (int(s[p + 1]) << 8)) + 0x8000 & 0xFFFF) - 0x8000
                ordr = order if order <= cnt else cnt  # the block's first values: the orders they allow
                if ordr == 0:
                    e = v
                elif ordr == 1:
                    e = v - x1
                elif ordr == 2:
                    e = v - 2 * x1 + x2
                else:
                    e = v - 3 * x1 + 3 * x2 - x3
                z = (e << 1) if e >= 0 else ((0 - e) << 1) - 1
                q = z >> k
                if q >= QMAX:  # escape: QMAX zeros, then the raw zig-zagged residual
                    acc <<= QMAX
                    nb += QMAX
                    while nb >= 8:
                        nb -= 8
                        o[pos] = (acc >> nb) & 0xFF
                        pos += 1
                    acc &= (1 << nb) - 1
                    acc = (acc << RAW_BITS) | z
                    nb += RAW_BITS
                else:
                    acc = (acc << (q + 1)) | 1
                    nb += q + 1
                    while nb >= 8:
                        nb -= 8
                        o[pos] = (acc >> nb) & 0xFF
                        pos += 1
                    acc &= (1 << nb) - 1
                    acc = (acc << k) | (z & ((1 << k) - 1))
                    nb += k
                while nb >= 8:
                    nb -= 8
                    o[pos] = (acc >> nb) & 0xFF
                    pos += 1
                acc &= (1 << nb) - 1
                x3 = x2
                x2 = x1
                x1 = v
                cnt += 1
                p += stride
                i += 1
            t[b] = x1 & 0xFFFF
            t[b + 1] = x2 & 0xFFFF
            t[b + 2] = x3 & 0xFFFF
            t[b + 3] = cnt if cnt < 3 else 3
            c += 1
        t[W_ACC] = acc
        t[W_NB] = nb
        t[W_POS] = pos
        g += 1
