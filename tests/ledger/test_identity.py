"""identity: short ids, key files, the paper backup, network codes."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from meshaid.node.ledger import identity
from meshaid.node.ledger.identity import CROCKFORD, KeyFileError

SEED = bytes(range(32))
KEY = identity.key_from_seed(SEED)


def test_short_id_is_the_hash_prefix_of_the_public_key() -> None:
    pub = identity.public_bytes(KEY)
    assert len(pub) == 32
    assert identity.short_id(pub) == hashlib.sha256(pub).digest()[:4]


def test_key_file_is_private_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "key.ed25519"
    identity.write_key_file(path, KEY)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == SEED
    assert identity.seed_bytes(identity.read_key_file(path)) == SEED
    assert not path.with_suffix(".tmp").exists()


def test_bad_key_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="meshaid init"):
        identity.read_key_file(tmp_path / "missing")
    short = tmp_path / "short"
    short.write_bytes(b"\x01" * 31)
    with pytest.raises(KeyFileError, match="31 bytes"):
        identity.read_key_file(short)


def test_paper_backup_round_trip() -> None:
    text = identity.paper_backup(KEY)
    groups = text.split("-")
    assert all(len(g) == 4 for g in groups[:-1]) and 1 <= len(groups[-1]) <= 4
    assert len(text.replace("-", "")) == 58  # 36 bytes of base32
    assert set(text.replace("-", "")) <= set(CROCKFORD)
    assert identity.seed_bytes(identity.from_paper_backup(text)) == SEED
    # forgiving about case, separators and the letters people confuse with digits
    relaxed = " ".join(groups).lower().replace("0", "o").replace("1", "l")
    assert identity.seed_bytes(identity.from_paper_backup(relaxed)) == SEED
    fresh = identity.generate_key()
    back = identity.from_paper_backup(identity.paper_backup(fresh))
    assert identity.seed_bytes(back) == identity.seed_bytes(fresh)


def _mistype(text: str, index: int) -> str:
    """Change the character at `index` (counting base32 digits only) so the
    5 bits it carries change in a way that matters. The last digit carries 2
    bits of padding, so change one of its top 3 bits."""
    digits = text.replace("-", "")
    value = CROCKFORD.index(digits[index])
    wrong = CROCKFORD[value ^ (0b10000 if index == len(digits) - 1 else 0b00001)]
    return digits[:index] + wrong + digits[index + 1 :]


def test_every_single_mistyped_character_is_refused() -> None:
    text = identity.paper_backup(KEY)
    for index in range(len(text.replace("-", ""))):
        with pytest.raises(KeyFileError, match="checksum"):
            identity.from_paper_backup(_mistype(text, index))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "expected 58 characters"),
        ("ABCD-EFGH", "expected 58 characters"),
        ("U" * 58, "not base32"),
        ("!" * 58, "not base32"),
    ],
)
def test_malformed_backups_are_refused(text: str, match: str) -> None:
    with pytest.raises(KeyFileError, match=match):
        identity.from_paper_backup(text)


def test_a_dropped_character_is_refused() -> None:
    text = identity.paper_backup(KEY).replace("-", "")
    with pytest.raises(KeyFileError):
        identity.from_paper_backup(text[:20] + text[21:])


def test_base32_round_trip_for_several_lengths() -> None:
    for n in (1, 4, 5, 8, 32, 36):
        data = bytes((i * 37 + n) % 256 for i in range(n))
        assert identity.b32decode(identity.b32encode(data), n) == data


def test_network_code_format_and_normalisation() -> None:
    net = hashlib.sha256(b"charter").digest()
    code = identity.network_code(net)
    assert len(code) == 14 and code[4] == code[9] == "-"
    assert set(code.replace("-", "")) <= set(CROCKFORD)
    assert identity.network_code(net) == code  # a pure function of the id
    assert identity.network_code(hashlib.sha256(b"other").digest()) != code
    assert code.replace("-", "")[:11] == identity.b32encode(net[:8])[:11]  # + check character
    assert identity.normalize_code(code) == code
    assert identity.normalize_code(code.lower()) == code
    assert identity.normalize_code(code.replace("-", "")) == code
    assert identity.normalize_code(" " + code.replace("-", " ") + "\t") == code


@pytest.mark.parametrize("seed", [b"charter", b"other", b"third"])
def test_every_one_character_typo_and_neighbour_swap_is_refused(seed: bytes) -> None:
    code = identity.network_code(hashlib.sha256(seed).digest())
    assert identity.parse_network_code(code.lower().replace("-", " ")) == code
    chars = code.replace("-", "")
    typos = {chars[:i] + ch + chars[i + 1:] for i in range(12) for ch in CROCKFORD}
    typos |= {chars[:i] + chars[i + 1] + chars[i] + chars[i + 2:] for i in range(11)}
    typos.discard(chars)
    assert len(typos) > 12 * 30
    for typo in typos:
        with pytest.raises(KeyFileError, match="typo"):
            identity.parse_network_code(typo)


def test_normalize_code_maps_confusable_letters() -> None:
    assert identity.normalize_code("oooo-iiii-llll") == "0000-1111-1111"
    assert identity.normalize_code("O0O0I1L1ABCD") == "0000-1111-ABCD"


@pytest.mark.parametrize("bad", ["", "ABCD-EFGH", "ABCD-EFGH-JKMN-P", "ABCD-EFGH-JKMU", "ABCD-EFGH-JK*N"])
def test_normalize_code_refuses_malformed_codes(bad: str) -> None:
    with pytest.raises(KeyFileError):
        identity.normalize_code(bad)


def test_verify_rejects_bad_keys_and_signatures() -> None:
    pub = identity.public_bytes(KEY)
    sig = KEY.sign(b"message")
    assert identity.verify(pub, sig, b"message")
    assert not identity.verify(pub, sig, b"massage")
    assert not identity.verify(pub, bytes(64), b"message")
    assert not identity.verify(b"\x01" * 31, sig, b"message")
