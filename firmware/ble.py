"""BLE link for the device app, on MicroPython's `bluetooth.BLE` API.

The seam: `BleLink(ble, UUID)` takes any object with the `bluetooth.BLE` API (active, config, irq,
gatts_register_services, gatts_write, gatts_notify, gap_advertise, gap_disconnect, gattc_exchange_mtu)
and the matching UUID class. On the device they are `bluetooth.BLE()` and `bluetooth.UUID`; on CPython
(host-link tests) a small implementation of the same API over a bumble device can be passed in. This
module imports neither `machine` nor `bluetooth`.

GATT table:
* Tiltguard service (128-bit SERVICE_UUID): stream (notify: device -> host frames) and control (write with
  response: host -> device commands; notify: responses).
* Device Information 0x180A: manufacturer, model number (sensor), firmware revision.
* Battery 0x180F: battery level (read, notify).
* Running Speed and Cadence 0x1814: RSC Measurement (notify: cadence, running status), RSC Feature (read).
Frames are sized from the negotiated ATT MTU (MTU - 3), never more than 244 bytes (MTU 247).

Owner only (docs/firmware.md): bonding (LE Secure Connections) is switched on only while the pairing window
is open (`allow_pairing`); the bond keys the stack hands over (_IRQ_SET_SECRET) are kept in a file, so the
owner stays the owner across power-ups. At every connection the pod asks for security (`gap_pair`): a bonded
central re-encrypts with its keys and the link is `bonded`. Once the pod has an owner, `police` drops a
central that pairs without bonding or does not prove a bond within PROVE_MS: the MicroPython API has no
filter accept list for advertising, so this is the accept list.
"""
import json
import struct

SERVICE_UUID = "7e1a0001-5f6b-4d3c-9a2e-74696c746764"
STREAM_UUID = "7e1a0002-5f6b-4d3c-9a2e-74696c746764"
CONTROL_UUID = "7e1a0003-5f6b-4d3c-9a2e-74696c746764"

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_MTU_EXCHANGED = 21
_IRQ_ENCRYPTION_UPDATE = 28
_IRQ_GET_SECRET = 29
_IRQ_SET_SECRET = 30

F_READ = 0x0002
F_WRITE = 0x0008  # write with response
F_NOTIFY = 0x0010

ADV_INTERVAL_US = 100000  # ~100 ms while waiting for a host
MTU = 247
MAX_FRAME = MTU - 3
APPEARANCE_RUNNING_SENSOR_ON_HIP = 0x0443
RSC_FEATURE_RUNNING_STATUS = 0x0004
RUNNING_CADENCE_SPM = 140  # above this, RSC reports "running" rather than walking
PROVE_MS = 3000  # an owned pod gives a central this long to encrypt with its bond, then drops it
SEC_PEER = 2  # NimBLE's store object type for a peer's keys (BLE_STORE_OBJ_TYPE_PEER_SEC): one per bond
IO_NO_INPUT_NO_OUTPUT = 3


SHORT_NAME_LEN = 4  # flags 3 + 128-bit service 18 + appearance 4 + name 2+4 = 31 bytes, the legacy limit


def adv_payload(name=None, services16=(), services128=(), appearance=None, short_name=None):
    """Advertising data (AD structures): flags, complete service lists, appearance, complete or shortened
    name (a passive scanner never sees the scan response, so the advertisement carries a short name)."""
    out = bytearray()

    def ad(t, value):
        out.extend(struct.pack("BB", len(value) + 1, t))
        out.extend(value)

    ad(0x01, b"\x06")  # LE general discoverable, BR/EDR not supported
    if services16:
        ad(0x03, b"".join(struct.pack("<H", u) for u in services16))
    for u in services128:
        ad(0x07, uuid128_bytes(u))
    if appearance is not None:
        ad(0x19, struct.pack("<H", appearance))
    if name:
        ad(0x09, name.encode())
    if short_name:
        ad(0x08, short_name.encode())
    if len(out) > 31:
        raise ValueError("advertising payload of %d bytes exceeds 31" % len(out))
    return bytes(out)


def uuid128_bytes(s):
    """Little-endian bytes of a 128-bit UUID string, as AD type 0x07 carries it."""
    h = s.replace("-", "")
    b = bytes(int(h[i : i + 2], 16) for i in range(0, 32, 2))
    return bytes(reversed(b))


def rsc_measurement(cadence_spm, speed_mps=0.0):
    """RSC Measurement value: flags (bit 2 = running), speed in 1/256 m/s, cadence in steps/min."""
    flags = 0x04 if cadence_spm >= RUNNING_CADENCE_SPM else 0
    speed = int(speed_mps * 256)
    cad = cadence_spm if cadence_spm < 255 else 255
    return struct.pack("<BHB", flags, speed if speed < 65536 else 65535, cad)


class BleLink:
    """A device-side link (see firmware/core.py): one central at a time."""

    name = "ble"

    def __init__(self, ble, UUID, device_name="Tiltguard", model="", firmware="", bond=True, secrets_path=None):
        self.ble = ble
        self.device_name = device_name
        self.conn = None
        self.connected = False
        self.bonded = False
        self.mtu = 23
        self.max_frame = 20
        self.inbox = []
        self._battery = None
        self._last_cadence = None
        self.secrets_path = secrets_path  # where bond keys survive a power-up (None: RAM only)
        self._secrets = {}
        self._load_secrets()
        self.pairing = False  # the pairing window is open: a central that pairs now bonds
        self.new_bond = False  # a central bonded on this link since the owner part last looked
        self.refused = False  # this connection encrypted without a bond
        self._since = None  # (conn, ms) when the police first saw this connection
        ble.active(True)
        ble.config(gap_name=device_name)
        ble.config(mtu=MTU)
        self.secure = False
        if bond:
            try:  # LE Secure Connections where the port supports it (NimBLE builds do); bonding: window only
                ble.config(bond=False, le_secure=True, mitm=False, io=IO_NO_INPUT_NO_OUTPUT)
                self.secure = True
            except (ValueError, TypeError, OSError, AttributeError):
                self.secure = False
        ble.irq(self._irq)
        tg = (UUID(SERVICE_UUID), ((UUID(STREAM_UUID), F_NOTIFY), (UUID(CONTROL_UUID), F_WRITE | F_NOTIFY)))
        dis = (UUID(0x180A), ((UUID(0x2A29), F_READ), (UUID(0x2A24), F_READ), (UUID(0x2A26), F_READ)))
        bas = (UUID(0x180F), ((UUID(0x2A19), F_READ | F_NOTIFY),))
        rsc = (UUID(0x1814), ((UUID(0x2A53), F_NOTIFY), (UUID(0x2A54), F_READ)))
        ((self.h_stream, self.h_control), (h_man, h_model, h_fw), (self.h_battery,), (self.h_rsc, h_rscf)) = (
            ble.gatts_register_services((tg, dis, bas, rsc))
        )
        self.h_model = h_model
        ble.gatts_write(h_man, b"Tiltguard project")
        ble.gatts_write(h_model, model.encode())
        ble.gatts_write(h_fw, firmware.encode())
        ble.gatts_write(h_rscf, struct.pack("<H", RSC_FEATURE_RUNNING_STATUS))
        ble.gatts_write(self.h_rsc, rsc_measurement(0))
        # the default attribute buffer holds 20 bytes: a command frame must fit whole
        try:
            ble.gatts_set_buffer(self.h_control, MAX_FRAME, False)
        except (AttributeError, OSError):
            pass
        self.adv = adv_payload(services128=(SERVICE_UUID,), appearance=APPEARANCE_RUNNING_SENSOR_ON_HIP,
                               short_name=device_name[:SHORT_NAME_LEN])
        self.resp = adv_payload(name=device_name, services16=(0x1814, 0x180F))
        self.advertise()

    def advertise(self):
        self.ble.gap_advertise(ADV_INTERVAL_US, adv_data=self.adv, resp_data=self.resp)

    # ---------------------------------------------------------------- stack events
    def _irq(self, event, data):
        if event == _IRQ_CENTRAL_CONNECT:
            self.conn = data[0]
            self.mtu = 23
            self.max_frame = 20
            self.bonded = False
            self.refused = False
            try:
                self.ble.gattc_exchange_mtu(self.conn)  # ask for 247 ourselves; hosts often do not
            except (OSError, AttributeError):
                pass
            if self.secure:
                try:  # security request: a bonded central encrypts with its keys, a new one pairs
                    self.ble.gap_pair(self.conn)
                except (OSError, AttributeError):
                    pass
        elif event == _IRQ_CENTRAL_DISCONNECT:
            if data[0] == self.conn:  # else: one the police dropped already
                self.conn = None
                self.connected = False
                self.bonded = False
                self.refused = False
            self.advertise()
        elif event == _IRQ_MTU_EXCHANGED:
            conn, mtu = data
            if conn == self.conn:
                self.mtu = mtu
                self.max_frame = (mtu if mtu < MTU else MTU) - 3
                self.connected = True  # stream only once frames can be sized from the real MTU
        elif event == _IRQ_GATTS_WRITE:
            conn, handle = data[0], data[1]
            if conn == self.conn and handle == self.h_control:
                self.inbox.append(bytes(self.ble.gatts_read(self.h_control)))
        elif event == _IRQ_ENCRYPTION_UPDATE:
            conn, encrypted, authenticated, bonded, key_size = data
            if conn == self.conn:
                self.bonded = bool(encrypted and bonded)
                self.refused = not self.bonded  # paired without a bond (window shut) or failed
        elif event == _IRQ_GET_SECRET:
            sec_type, index, key = data
            if key is None:
                i = 0
                for (t, k), v in self._secrets.items():
                    if t == sec_type:
                        if i == index:
                            return v
                        i += 1
                return None
            return self._secrets.get((sec_type, bytes(key)))
        elif event == _IRQ_SET_SECRET:
            sec_type, key, value = data
            k = (sec_type, bytes(key))
            if value is None:
                self._secrets.pop(k, None)
            else:
                if sec_type == SEC_PEER and k not in self._secrets:
                    self.new_bond = True
                self._secrets[k] = bytes(value)
            return self._save_secrets()
        return None

    # ---------------------------------------------------------------- owner (bonds)
    def _load_secrets(self):
        if not self.secrets_path:
            return
        try:
            with open(self.secrets_path) as f:
                rows = json.load(f)
            for t, k, v in rows:
                self._secrets[(t, bytes.fromhex(k))] = bytes.fromhex(v)
        except (OSError, ValueError, TypeError):
            self._secrets = {}  # none yet, or a damaged file: no owner (pair again in a window)

    def _save_secrets(self):
        """Keys to flash (a power cut leaves the old or the new file). False if they could not be kept."""
        if not self.secrets_path:
            return True
        rows = [[t, k.hex(), v.hex()] for (t, k), v in self._secrets.items()]
        tmp = self.secrets_path + ".tmp"
        try:
            with open(tmp, "w") as f:
                json.dump(rows, f)
            import os

            try:
                os.remove(self.secrets_path)
            except OSError:
                pass
            os.rename(tmp, self.secrets_path)
            return True
        except OSError:
            return False

    def has_bonds(self):
        for t, _ in self._secrets:
            if t == SEC_PEER:
                return True
        return False

    def allow_pairing(self, on):
        """Pairing window open (bonds are made) or shut (a central may pair but never bonds)."""
        self.pairing = bool(on)
        if self.secure:
            self.ble.config(bond=self.pairing)

    def forget_all(self):
        """Every bond deleted, from the stack's store and the file; this connection is no longer trusted."""
        self._secrets = {}
        self._save_secrets()
        self.bonded = False

    def police(self, now_ms, owned):
        """Called a few times a second by the owner part: drop a central that has no bond with an owned pod
        (outside the pairing window) once it encrypted without one or PROVE_MS passed."""
        conn = self.conn
        if conn is None:
            self._since = None
            return
        if self._since is None or self._since[0] != conn:
            self._since = (conn, now_ms)
        if self.bonded or self.pairing or not owned:
            return
        if self.refused or now_ms - self._since[1] >= PROVE_MS:
            self.drop()

    def drop(self):
        conn = self.conn
        self.conn = None
        self.connected = False
        self.bonded = False
        self.refused = False
        self.inbox = []
        try:
            self.ble.gap_disconnect(conn)  # its disconnect event advertises again
        except (OSError, AttributeError):
            pass

    def set_model(self, model):
        """Device Information model number: the IMU found at start-up."""
        self.ble.gatts_write(self.h_model, model.encode())

    # ---------------------------------------------------------------- link API
    def send(self, frame):
        if not self.connected or self.conn is None:
            return False
        if len(frame) > self.max_frame:
            return False  # never silently truncated: the app sizes frames from max_frame
        handle = self.h_control if frame[1] == 5 else self.h_stream  # responses on the control char
        try:
            self.ble.gatts_notify(self.conn, handle, frame)
            return True
        except OSError:  # stack queue full (ENOMEM) or link gone: the frame stays in the history
            return False

    def poll(self):
        got = self.inbox
        self.inbox = []
        return got

    def set_battery(self, pct):
        if pct == self._battery:
            return
        self._battery = pct
        v = struct.pack("B", pct)
        self.ble.gatts_write(self.h_battery, v)
        if self.conn is not None:
            try:
                self.ble.gatts_notify(self.conn, self.h_battery, v)
            except OSError:
                pass

    def set_cadence(self, spm):
        v = rsc_measurement(spm)
        self.ble.gatts_write(self.h_rsc, v)
        if self.conn is not None and self.connected:
            try:
                self.ble.gatts_notify(self.conn, self.h_rsc, v)
            except OSError:
                pass
