"""LoRa time on air, Meshtastic modem presets and the on-air frame size.

Theory of operation: a LoRa frame is a preamble followed by a payload of
whole symbols. With Semtech's formula (SX127x datasheet / AN1200.13, which
RadioLib's ``getTimeOnAir`` reproduces for SF7-SF12) and the Meshtastic radio
settings -- 16 preamble symbols, explicit header, CRC on, low-data-rate
optimisation (LDRO) when a symbol lasts more than 16 ms -- the number of
payload symbols is::

    n = 8 + max(ceil((8*PL - 4*SF + 28 + 16*CRC - 20*IH) / (4*(SF - 2*DE))) * (CR + 4), 0)

and the time on air is ``(preamble + 4.25 + n) * 2**SF / BW``.

The Meshtastic frame (what ``PL`` counts) is the 16-byte ``PacketHeader``
(to, from, id, flags, channel hash, next_hop, relay_node) followed by the
AES-CTR-encrypted ``Data`` protobuf, which is exactly as long as its plain
encoding. For an application payload on a private port (256..511) that is:
portnum (tag + 2-byte varint = 3), payload (tag + length varint + bytes),
bitfield (tag + 1-byte varint = 2, always set by the firmware for packets it
originates). A 231-byte payload therefore makes a 255-byte frame, and 232
bytes is refused as TOO_LARGE. PKI-encrypted DMs add 12 bytes (8-byte auth
tag + 4-byte extra nonce), want_response adds 2, request_id/reply_id 5 each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "HEADER_BYTES",
    "MAX_DATA_PAYLOAD",
    "MAX_FRAME_BYTES",
    "PKC_OVERHEAD",
    "PRESETS",
    "STANDARD_PRESETS",
    "Preset",
    "demod_floor_db",
    "frame_bytes",
    "get_preset",
    "max_app_payload",
    "noise_floor_dbm",
    "time_on_air",
]

MAX_FRAME_BYTES = 255  # MAX_LORA_PAYLOAD_LEN (RadioInterface.h)
HEADER_BYTES = 16  # MESHTASTIC_HEADER_LENGTH == sizeof(PacketHeader)
MAX_DATA_PAYLOAD = 233  # meshtastic_Constants_DATA_PAYLOAD_LEN (Data.payload max_size)
PKC_OVERHEAD = 12  # MESHTASTIC_PKC_OVERHEAD (RadioInterface.h)
PREAMBLE_SYMBOLS = 16  # RadioInterface::preambleLengthDefault (sub-GHz)

# Demodulation SNR floor per spreading factor (Semtech SX1276/SX1262 datasheets).
_DEMOD_FLOOR = {5: -2.5, 6: -5.0, 7: -7.5, 8: -10.0, 9: -12.5, 10: -15.0, 11: -17.5, 12: -20.0}


@dataclass(frozen=True)
class Preset:
    """A LoRa modem setting: spreading factor, bandwidth (kHz), coding rate 4/cr."""

    name: str
    sf: int
    bw_khz: float
    cr: int  # denominator of the coding rate 4/cr, 5..8

    @property
    def symbol_time(self) -> float:
        """Seconds per LoRa symbol (2**SF / BW)."""
        return (1 << self.sf) / (self.bw_khz * 1000.0)

    @property
    def ldro(self) -> bool:
        """Low-data-rate optimisation on (symbol longer than 16 ms)."""
        return self.symbol_time > 0.016

    @property
    def slot_time(self) -> float:
        """Firmware CSMA slot in seconds (RadioInterface::computeSlotTimeMsec, sub-GHz).

        ``max(2.25, NUM_SYM_CAD + 0.5) * symbolTime + 0.2 + 0.4 + 7`` ms with
        NUM_SYM_CAD = 2, truncated to whole milliseconds as the firmware's
        ``uint32_t`` return does. LONG_FAST: 28 ms.
        """
        ms = 2.5 * ((1 << self.sf) / self.bw_khz) + 7.6
        return int(ms) / 1000.0

    @property
    def demod_floor_db(self) -> float:
        """Lowest SNR (dB) at which this preset still demodulates."""
        return demod_floor_db(self.sf)

    def noise_floor_dbm(self, noise_figure_db: float = 6.0) -> float:
        """Thermal noise floor in dBm over this bandwidth."""
        return noise_floor_dbm(self.bw_khz, noise_figure_db)

    def sensitivity_dbm(self, noise_figure_db: float = 6.0) -> float:
        """Weakest decodable RSSI: noise floor + demodulation floor."""
        return self.noise_floor_dbm(noise_figure_db) + self.demod_floor_db


def _p(name: str, sf: int, bw: float, cr: int) -> tuple[str, Preset]:
    return name, Preset(name, sf, bw, cr)


# src/mesh/MeshRadio.h modemPresetToParams (sub-GHz bandwidths).
STANDARD_PRESETS: dict[str, Preset] = dict(
    [
        _p("SHORT_TURBO", 7, 500.0, 5),
        _p("SHORT_FAST", 7, 250.0, 5),
        _p("SHORT_SLOW", 8, 250.0, 5),
        _p("MEDIUM_TURBO", 9, 500.0, 5),  # newer firmware; not in radio-facts.md
        _p("MEDIUM_FAST", 9, 250.0, 5),
        _p("MEDIUM_SLOW", 10, 250.0, 5),
        _p("LONG_TURBO", 11, 500.0, 8),
        _p("LONG_FAST", 11, 250.0, 5),
        _p("LONG_MODERATE", 11, 125.0, 8),
        _p("LONG_SLOW", 12, 125.0, 8),
    ]
)

# Presets of newer region profiles (EU_866 "LITE", EU_N_868 "NARROW", ham "TINY").
PRESETS: dict[str, Preset] = {
    **STANDARD_PRESETS,
    **dict(
        [
            _p("LITE_FAST", 9, 125.0, 5),
            _p("LITE_SLOW", 10, 125.0, 5),
            _p("NARROW_FAST", 7, 62.5, 6),
            _p("NARROW_SLOW", 8, 62.5, 6),
            _p("TINY_FAST", 7, 15.6, 5),
            _p("TINY_SLOW", 8, 15.6, 6),
        ]
    ),
}


def get_preset(preset: Preset | str) -> Preset:
    """Return ``preset`` itself or look its name up in :data:`PRESETS`."""
    if isinstance(preset, Preset):
        return preset
    try:
        return PRESETS[preset.upper()]
    except KeyError:
        raise KeyError(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}") from None


def demod_floor_db(sf: int) -> float:
    """Demodulation SNR floor in dB for a spreading factor (SF7 -7.5 ... SF12 -20)."""
    return _DEMOD_FLOOR[sf]


def noise_floor_dbm(bw_khz: float, noise_figure_db: float = 6.0) -> float:
    """Receiver noise floor: -174 dBm/Hz + 10*log10(BW in Hz) + noise figure."""
    return -174.0 + 10.0 * math.log10(bw_khz * 1000.0) + noise_figure_db


@lru_cache(maxsize=4096)
def _toa(frame_bytes: int, sf: int, bw_khz: float, cr: int, preamble: int, explicit: bool,
         crc: bool) -> float:
    tsym = (1 << sf) / (bw_khz * 1000.0)
    de = 1 if tsym > 0.016 else 0
    ih = 0 if explicit else 1
    num = 8 * frame_bytes - 4 * sf + 28 + 16 * (1 if crc else 0) - 20 * ih
    n_payload = 8 + max(math.ceil(num / (4 * (sf - 2 * de))) * cr, 0)
    return (preamble + 4.25 + n_payload) * tsym


def time_on_air(frame_bytes: int, preset: Preset | str = "LONG_FAST", *,
                preamble: int = PREAMBLE_SYMBOLS, explicit_header: bool = True,
                crc: bool = True) -> float:
    """Seconds on air for a LoRa frame of ``frame_bytes`` bytes (header included).

    Uses Semtech's formula with Meshtastic's settings (16-symbol preamble,
    explicit header, CRC on, LDRO above 16 ms symbols). ``cr`` in the preset
    is the denominator (5 for 4/5), so the formula's ``CR + 4`` is ``cr``.
    """
    if frame_bytes < 0:
        raise ValueError("frame_bytes must be >= 0")
    p = get_preset(preset)
    return _toa(frame_bytes, p.sf, p.bw_khz, p.cr, preamble, explicit_header, crc)


def _varint_len(v: int) -> int:
    n = 1
    while v >= 0x80:
        v >>= 7
        n += 1
    return n


def frame_bytes(app_payload_len: int, *, portnum: int = 256, bitfield: bool = True,
                want_response: bool = False, request_id: bool = False, reply_id: bool = False,
                pki: bool = False) -> int:
    """On-air Meshtastic frame length for an application payload of that many bytes.

    16-byte header + encoded ``Data`` (portnum, payload, optional
    want_response / request_id / reply_id, bitfield) + 12 bytes if
    PKI-encrypted. A 231-byte broadcast payload on a private port gives 255.
    """
    if app_payload_len < 0:
        raise ValueError("payload length must be >= 0")
    n = 0
    if portnum:
        n += 1 + _varint_len(portnum)
    if app_payload_len:
        n += 1 + _varint_len(app_payload_len) + app_payload_len
    if want_response:
        n += 2
    if request_id:
        n += 5  # fixed32
    if reply_id:
        n += 5
    if bitfield:
        n += 2  # tag + 1-byte varint (ok_to_mqtt / want_response bits)
    n += HEADER_BYTES
    if pki:
        n += PKC_OVERHEAD
    return n


def max_app_payload(**kwargs: bool | int) -> int:
    """Largest payload that fits one frame with those ``frame_bytes`` options.

    231 for a broadcast on a private port, 219 for a PKI DM.
    """
    n = MAX_DATA_PAYLOAD
    while n > 0 and frame_bytes(n, **kwargs) > MAX_FRAME_BYTES:  # type: ignore[arg-type]
        n -= 1
    return n
