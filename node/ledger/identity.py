"""Keys, short ids, network ids and the paper backup of a key.

* A node's identity is an Ed25519 key pair (`cryptography`).
* A short id is the first 4 bytes of SHA-256(public key): a look-up hint only.
* A network id is SHA-256 of the charter's signed bytes; its short code, the
  first 55 bits in Crockford base32 plus one check character, as
  XXXX-XXXX-XXXX, is what people hand over. The check character is a weighted
  sum over GF(32), so every one-character typo and every swap of two
  neighbouring characters is refused.
* The paper backup of a private key is its 32 seed bytes plus a 4-byte
  SHA-256 checksum, in Crockford base32, grouped in fours.
* Public keys of small order (the eight points P with 8·P the identity, in any
  encoding) are refused wherever a key is loaded or decoded: for such a key a
  signature that no private key made can verify.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from .shared import Memo

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE_MAP = {ch: i for i, ch in enumerate(CROCKFORD)} | {"O": 0, "I": 1, "L": 1}
NETWORK_CODE_CHARS = 12


class KeyFileError(ValueError):
    """A key file or paper backup that cannot be used."""


def short_id(public_key: bytes) -> bytes:
    return hashlib.sha256(public_key).digest()[:4]


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def signer(key: Ed25519PrivateKey) -> Callable[[bytes], tuple[bytes, bytes]]:
    """A function signing bytes with `key`: it returns (short id, signature)
    (the sync engine's member tickets, node/sync/ticket.py)."""
    short = short_id(public_bytes(key))
    return lambda message: (short, key.sign(message))


def seed_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


_P = 2**255 - 19
# y of an edwards25519 point of order 8 (the other one is p - y): with y = 0 (two
# points of order 4), 1 (the identity) and p - 1 (order 2), the y-coordinates of
# the whole 8-torsion subgroup, whose eight points are the small-order keys.
_Y8 = 2707385501144840649318225287225658788936804267575313519463743609750303402022
_SMALL_ORDER_Y = frozenset({0, 1, _P - 1, _Y8, _P - _Y8})


def small_order(public_key: bytes) -> bool:
    """Is `public_key` (32 bytes) a point of small order (8·P the identity), in any
    of its encodings: either sign bit, y reduced mod p or not?"""
    y = int.from_bytes(public_key, "little") & ((1 << 255) - 1)
    return len(public_key) == 32 and y % _P in _SMALL_ORDER_Y


@functools.lru_cache(maxsize=4096)
def _public_key(public_key: bytes) -> Ed25519PublicKey | None:
    if small_order(public_key):
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        return None


# Shared by simulated nodes (shared.py).
VERIFIED: Memo[tuple[bytes, bytes, bytes], bool] = Memo(2_000_000)


def verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True if `signature` is `public_key`'s Ed25519 signature of `message`."""
    return VERIFIED.get((public_key, signature, message), _verify_triple)


def _verify_triple(triple: tuple[bytes, bytes, bytes]) -> bool:
    return _verify(*triple)


def _verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    key = _public_key(public_key)
    if key is None:
        return False
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def write_key_file(path: Path, key: Ed25519PrivateKey) -> None:
    """Write the 32-byte seed to `path` atomically: an exclusively created
    temporary file (mode 0600, never through a planted symlink) renamed over it."""
    tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        try:
            os.write(fd, seed_bytes(key))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_key_file(path: Path) -> Ed25519PrivateKey:
    """The key in `path`: a regular file of exactly 32 bytes (never blocks on a
    FIFO, never reads more than 33 bytes of a device or a large file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError as exc:
        raise KeyFileError(f"no key at {path}; run 'meshaid init' first") from exc
    except OSError as exc:
        raise KeyFileError(f"cannot read the key at {path}: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise KeyFileError(f"key file {path} is not a regular file")
        data = os.read(fd, 33)
    finally:
        os.close(fd)
    if len(data) != 32:
        size = path.stat().st_size if len(data) > 32 else len(data)
        raise KeyFileError(f"key file {path} is {size} bytes, expected 32")
    return key_from_seed(data)


def b32encode(data: bytes) -> str:
    bits = int.from_bytes(data, "big")
    nbits = len(data) * 8
    nchars = -(-nbits // 5)
    bits <<= nchars * 5 - nbits
    return "".join(CROCKFORD[(bits >> (5 * (nchars - 1 - i))) & 31] for i in range(nchars))


def b32decode(text: str, nbytes: int) -> bytes:
    clean = [ch for ch in text.upper() if ch not in "- \t\n"]
    nchars = -(-nbytes * 8 // 5)
    if len(clean) != nchars:
        raise KeyFileError(f"expected {nchars} characters, got {len(clean)}")
    bits = 0
    for ch in clean:
        if ch not in _DECODE_MAP:
            raise KeyFileError(f"character {ch!r} is not base32")
        bits = (bits << 5) | _DECODE_MAP[ch]
    bits >>= nchars * 5 - nbytes * 8
    return bits.to_bytes(nbytes, "big")


def group(text: str, size: int = 4) -> str:
    return "-".join(text[i : i + size] for i in range(0, len(text), size))


def paper_backup(key: Ed25519PrivateKey) -> str:
    """Seed plus 4-byte checksum, as Crockford base32 in groups of four."""
    seed = seed_bytes(key)
    checksum = hashlib.sha256(b"meshaid-key" + seed).digest()[:4]
    return group(b32encode(seed + checksum))


def from_paper_backup(text: str) -> Ed25519PrivateKey:
    """Inverse of `paper_backup`; raises KeyFileError on a typo (bad checksum)."""
    data = b32decode(text, 36)
    seed, checksum = data[:32], data[32:]
    if hashlib.sha256(b"meshaid-key" + seed).digest()[:4] != checksum:
        raise KeyFileError("checksum does not match: a character was mistyped")
    return key_from_seed(seed)


def network_id(charter_raw: bytes) -> bytes:
    return hashlib.sha256(charter_raw).digest()


_GF32_POLY = 0b100101  # x^5 + x^2 + 1, primitive: x has order 31


def _gf32_mul(a: int, b: int) -> int:
    out = 0
    while b:
        if b & 1:
            out ^= a
        b >>= 1
        a <<= 1
        if a & 32:
            a ^= _GF32_POLY
    return out


def code_check(data: str) -> str:
    """The check character of the code characters `data`: the sum over GF(32) of
    each character's value times x^(i+1). A change of one character changes the
    sum (each weight is invertible); swapping neighbours a, b changes it by
    x^(i+1) (1 + x) (a - b), never zero for a != b."""
    total, weight = 0, 2  # x
    for ch in data:
        total ^= _gf32_mul(weight, CROCKFORD.index(ch))
        weight = _gf32_mul(weight, 2)
    return CROCKFORD[total]


def network_code(net_id: bytes) -> str:
    """The short, readable code of a network id: 11 Crockford base32 characters
    of the id and a check character, grouped XXXX-XXXX-XXXX."""
    data = b32encode(net_id[:7])[:NETWORK_CODE_CHARS - 1]
    return group(data + code_check(data))


def normalize_code(code: str) -> str:
    """Canonical XXXX-XXXX-XXXX form of a typed code (check character not
    verified: see `parse_network_code`); raises KeyFileError."""
    clean = "".join(ch for ch in code.upper() if ch not in "- \t")
    clean = "".join("0" if ch == "O" else "1" if ch in "IL" else ch for ch in clean)
    if len(clean) != NETWORK_CODE_CHARS or any(ch not in CROCKFORD for ch in clean):
        raise KeyFileError(f"network id {code!r} is not {NETWORK_CODE_CHARS} base32 characters")
    return group(clean)


def parse_network_code(code: str) -> str:
    """A network code as people type it, normalised; raises KeyFileError when it is
    malformed or its check character does not match (a typo)."""
    clean = normalize_code(code)
    data = clean.replace("-", "")
    if code_check(data[:-1]) != data[-1]:
        raise KeyFileError(f"network id {code.strip()!r} has a typo (its check character "
                           "does not match): compare it with the founder's, character by "
                           "character")
    return clean


def key_hex(public_key: bytes) -> str:
    return public_key.hex()
