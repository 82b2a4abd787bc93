"""Sealed export files: what went in comes out; cut, altered, reordered or moved files do not."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest

from questionnaire.exports import sealed
from questionnaire.records.crypto import Keyring, new_key

PLAINTEXT = b"".join(b"row %d,some,cells\r\n" % number for number in range(500))


def write(path: Path, ring: Keyring, job_id: int = 7, data: bytes = PLAINTEXT) -> None:
    with path.open("wb") as handle:
        writer = sealed.SealedWriter(handle, ring, job_id)
        for start in range(0, len(data), 333):
            writer.write(data[start : start + 333])
        writer.close()


def chunks(path: Path) -> tuple[bytes, list[bytes]]:
    """Split a sealed file into its header and its length-prefixed chunks."""
    data = path.read_bytes()
    header_length = len(sealed.MAGIC) + sealed.KEY_ID_LENGTH + 1
    header, rest, parts = data[:header_length], io.BytesIO(data[header_length:]), []
    while size := rest.read(4):
        (length,) = struct.unpack(">I", size)
        parts.append(size + rest.read(length))
    return header, parts


@pytest.fixture
def ring() -> Keyring:
    return Keyring(new_key())


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sealed, "CHUNK_BYTES", 1000)


def test_a_sealed_file_opens_to_exactly_what_was_written(tmp_path: Path, ring: Keyring) -> None:
    path = tmp_path / "export.sealed"
    write(path, ring)
    assert b"".join(sealed.open_chunks(path, ring, 7)) == PLAINTEXT
    assert sealed.verify(path, ring, 7) == len(PLAINTEXT)
    assert b"row 1," not in path.read_bytes()
    assert len(chunks(path)[1]) > 5


def test_an_empty_export_still_has_its_last_chunk(tmp_path: Path, ring: Keyring) -> None:
    path = tmp_path / "export.sealed"
    write(path, ring, data=b"")
    assert b"".join(sealed.open_chunks(path, ring, 7)) == b""


@pytest.mark.parametrize("damage", ["cut_at_a_chunk", "cut_mid_chunk", "swap", "repeat", "flip"])
def test_a_damaged_file_refuses_to_open(tmp_path: Path, ring: Keyring, damage: str) -> None:
    path = tmp_path / "export.sealed"
    write(path, ring)
    header, parts = chunks(path)
    if damage == "cut_at_a_chunk":
        parts = parts[:-1]
    elif damage == "cut_mid_chunk":
        parts[-1] = parts[-1][:-5]
    elif damage == "swap":
        parts[1], parts[2] = parts[2], parts[1]
    elif damage == "repeat":
        parts.insert(2, parts[1])
    else:
        parts[3] = parts[3][:40] + bytes([parts[3][40] ^ 1]) + parts[3][41:]
    path.write_bytes(header + b"".join(parts))
    with pytest.raises(sealed.SealedFileError):
        sealed.verify(path, ring, 7)


def test_a_file_opens_only_as_its_own_job_and_with_its_key(tmp_path: Path, ring: Keyring) -> None:
    path = tmp_path / "export.sealed"
    write(path, ring)
    with pytest.raises(sealed.SealedFileError):
        sealed.verify(path, ring, 8)
    with pytest.raises(sealed.SealedFileError):
        sealed.verify(path, Keyring(new_key()), 7)
    rotated = Keyring(new_key(), older=[ring.current])
    assert sealed.verify(path, rotated, 7) == len(PLAINTEXT)
