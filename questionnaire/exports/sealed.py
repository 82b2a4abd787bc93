"""Export files sealed at rest: AES-256-GCM in chunks under the answers key.

A file is a header (a magic line and the id of the key that sealed it), then
chunks, each ``4-byte big-endian length + 12-byte nonce + ciphertext and tag``.
Each chunk's associated data names the job, the chunk's index and whether it is
the last, so a chunk moved, dropped, repeated, swapped with another job's, or a
file cut short (no last chunk) fails to open, never reads as a shorter file.
"""

from __future__ import annotations

import os
import secrets
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from questionnaire.records.crypto import NONCE_BYTES, CiphertextError, Keyring, key_id

MAGIC = b"intake-export v1\n"
KEY_ID_LENGTH = 16
_LENGTH = struct.Struct(">I")
#: Plaintext gathered before a chunk is sealed: large enough to be cheap, small enough to
#: keep a worker's memory flat whatever the export's size.
CHUNK_BYTES = 1 << 20
#: A chunk bigger than this is not one this module wrote.
MAX_SEALED_CHUNK = 64 << 20


class SealedFileError(CiphertextError):
    """An export file is cut short, altered, reordered, or sealed with a key that is gone."""


def _associated(job_id: int, index: int, last: bool) -> bytes:
    return f"export_jobs:{job_id}:{index}:{'last' if last else 'more'}".encode()


class SealedWriter:
    """Write plaintext to a sealed file, a chunk at a time; ``close()`` seals the last chunk."""

    def __init__(self, handle: BinaryIO, ring: Keyring, job_id: int) -> None:
        self.handle = handle
        self.aead = AESGCM(ring.current)
        self.job_id = job_id
        self.index = 0
        self.buffer = bytearray()
        self.plaintext_bytes = 0
        handle.write(MAGIC + key_id(ring.current).encode() + b"\n")

    def write(self, data: bytes) -> None:
        """Add plaintext; seal a chunk whenever CHUNK_BYTES have gathered."""
        self.buffer += data
        self.plaintext_bytes += len(data)
        # Keep at least one byte back so the last chunk is never sealed as "more".
        while len(self.buffer) > CHUNK_BYTES:
            self._seal(bytes(self.buffer[:CHUNK_BYTES]), last=False)
            del self.buffer[:CHUNK_BYTES]

    def _seal(self, plaintext: bytes, last: bool) -> None:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = nonce + self.aead.encrypt(
            nonce, plaintext, _associated(self.job_id, self.index, last)
        )
        self.handle.write(_LENGTH.pack(len(sealed)) + sealed)
        self.index += 1

    def close(self) -> None:
        """Seal what is left as the last chunk, then flush and fsync the file."""
        self._seal(bytes(self.buffer), last=True)
        self.buffer.clear()
        self.handle.flush()
        os.fsync(self.handle.fileno())


def _read_exact(handle: BinaryIO, size: int) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise SealedFileError("export file is cut short")
    return data


def open_chunks(path: Path, ring: Keyring, job_id: int) -> Iterator[bytes]:
    """Yield the plaintext of a sealed export file chunk by chunk; raise SealedFileError if it
    is cut short, altered or reordered (after yielding the chunks that opened before it)."""
    with path.open("rb") as handle:
        header = handle.read(len(MAGIC) + KEY_ID_LENGTH + 1)
        if not header.startswith(MAGIC) or not header.endswith(b"\n"):
            raise SealedFileError("not a sealed export file")
        key = ring.key_by_id(header[len(MAGIC) : -1].decode("ascii", "replace"))
        if key is None:
            raise SealedFileError("export file was sealed with a key that is gone")
        aead = AESGCM(key)
        index = 0
        while True:
            (length,) = _LENGTH.unpack(_read_exact(handle, _LENGTH.size))
            if length <= NONCE_BYTES or length > MAX_SEALED_CHUNK:
                raise SealedFileError("export file chunk has a bad length")
            sealed = _read_exact(handle, length)
            plaintext, last = _open_one(aead, sealed, job_id, index)
            yield plaintext
            if last:
                if handle.read(1):
                    raise SealedFileError("export file has data after its last chunk")
                return
            index += 1


def _open_one(aead: AESGCM, sealed: bytes, job_id: int, index: int) -> tuple[bytes, bool]:
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    for last in (False, True):
        try:
            return aead.decrypt(nonce, body, _associated(job_id, index, last)), last
        except InvalidTag:
            continue
    raise SealedFileError("export file failed its integrity check")


def verify(path: Path, ring: Keyring, job_id: int) -> int:
    """Open every chunk of a sealed file and return its plaintext size; raise if any fails."""
    return sum(len(chunk) for chunk in open_chunks(path, ring, job_id))
