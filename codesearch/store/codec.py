"""The stored copy of each chunk's code, compressed (raw DEFLATE, one row at a time).

Code compresses about 2.5x row by row (measured in ``docs/SCALE.md``, "Index size"); a row
stays readable alone, so a search decompresses only the rows it shows. The stored text is
at most ``STORED_CODE_CHARS`` characters, so a row never inflates past ``MAX_CODE_BYTES``:
a crafted row (a decompression bomb) is damage, not a allocation of gigabytes.
"""

from __future__ import annotations

import zlib
from typing import Any

from codesearch.errors import IndexCorrupt

STORED_CODE_CHARS = 4000  # enough to show and rerank a symbol; whole classes are cut
MAX_CODE_BYTES = 4 * STORED_CODE_CHARS  # UTF-8 needs at most 4 bytes a character
_LEVEL = 6  # level 9 saves 0.2% more, at twice the time
_WBITS = -15  # raw DEFLATE: no zlib header or checksum (6 bytes a row); SQLite checks its pages


def pack_code(code: str) -> bytes:
    """The stored form of a chunk's code (cut at ``STORED_CODE_CHARS`` characters)."""
    packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WBITS)
    return packer.compress(code[:STORED_CODE_CHARS].encode("utf-8", "surrogatepass")) + packer.flush()


def stops_early(code: str, start_line: int, end_line: int) -> bool:
    """Whether a chunk's stored ``code`` stops before its lines do: cut at ``STORED_CODE_CHARS`` characters."""
    return len(code) >= STORED_CODE_CHARS and code.count("\n") < end_line - start_line


def unpack_code(blob: bytes | None) -> str:
    """The code a stored row holds (``""`` for NULL).

    :raises IndexCorrupt: if the row is not a complete DEFLATE stream of at most ``MAX_CODE_BYTES``
        bytes of UTF-8 text.
    """
    if blob is None:
        return ""
    if not isinstance(blob, bytes):
        raise IndexCorrupt("a stored chunk's code is not compressed data")
    unpacker = zlib.decompressobj(_WBITS)
    try:
        data = unpacker.decompress(blob, MAX_CODE_BYTES)
        if unpacker.unconsumed_tail or not unpacker.eof:
            raise ValueError("longer than any stored code, or truncated")
        return data.decode("utf-8", "surrogatepass")
    except (zlib.error, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise IndexCorrupt(f"a stored chunk's code is damaged ({exc})") from exc


def code_of(row: dict[str, Any]) -> str:
    """A chunk row's code: decompressed (and kept in the row) on the first read of a row that
    ``IndexReader.chunks`` gave with its code still packed (``code_z``, left in place: a reader keeps its
    rows for the next search, so two reads of one row must both find it).

    :raises IndexCorrupt: if the stored code is damaged.
    """
    code = row.get("code")
    if code is None:
        code = row["code"] = unpack_code(row.get("code_z"))
    return str(code)
