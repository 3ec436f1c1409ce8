"""Reading a table in an object store without downloading it whole: the provider gives a
byte-range reader (`read(start, end)` -> bytes start..end inclusive, as an HTTP Range), and
these functions read only what they need. A CSV's columns come from its first kilobytes; a
parquet's columns and row count from its footer; a CSV's row count streams through the
object in chunks (memory stays one chunk).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

RangeReader = Callable[[int, int], bytes]  # (first byte, last byte), both inclusive
CHUNK = 1 << 20  # 1 MiB per ranged read


@dataclass(frozen=True)
class TableFacts:
    columns: list[str]
    rows: int | None  # None when not counted
    bytes_read: int  # how much of the object the facts cost


class RangeFile(io.RawIOBase):
    """A read-only, seekable file over a range reader, buffering one chunk: what pyarrow and
    pandas read a parquet footer or a CSV through."""

    def __init__(self, read: RangeReader, size: int, chunk: int = CHUNK):
        super().__init__()
        self._read, self.size, self.chunk = read, size, chunk
        self._pos = 0
        self._buf_start, self._buf = 0, b""
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def _fetch(self, start: int, end: int) -> bytes:
        data = self._read(start, end)
        self.bytes_read += len(data)
        return data

    def read(self, n: int = -1) -> bytes:
        if self._pos >= self.size:
            return b""
        end = self.size if n is None or n < 0 else min(self.size, self._pos + n)
        out = bytearray()
        while self._pos < end:
            inside = self._buf_start <= self._pos < self._buf_start + len(self._buf)
            if not inside:
                self._buf_start = self._pos
                self._buf = self._fetch(
                    self._pos, min(self.size, self._pos + max(self.chunk, end - self._pos)) - 1
                )
                if not self._buf:
                    break
            offset = self._pos - self._buf_start
            piece = self._buf[offset : offset + end - self._pos]
            out += piece
            self._pos += len(piece)
        return bytes(out)

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def chunks(read: RangeReader, size: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """The object in order, one ranged read per chunk."""
    for start in range(0, size, chunk):
        yield read(start, min(size, start + chunk) - 1)


def csv_columns(read: RangeReader, size: int, chunk: int = 64 * 1024) -> tuple[list[str], int]:
    """(header columns, bytes read): reads until the first line ends (quotes respected)."""
    head = b""
    for piece in chunks(read, size, chunk):
        head += piece
        text = head.decode("utf-8", errors="replace")
        rows = list(csv.reader(io.StringIO(text)))
        if len(rows) > 1 or len(head) >= size:  # the first record is whole
            return ([c.strip() for c in rows[0]] if rows else []), len(head)
    return [], len(head)


def csv_facts(read: RangeReader, size: int, count_rows: bool = True, chunk: int = CHUNK) -> TableFacts:
    """A CSV's columns and (streamed) row count: records, not counting the header; a
    newline inside quotes does not end a record."""
    columns, spent = csv_columns(read, size)
    if not count_rows:
        return TableFacts(columns, None, spent)
    records, quoted, last, spent = 0, False, b"\n", 0
    for piece in chunks(read, size, chunk):
        spent += len(piece)
        if b'"' not in piece and not quoted:
            records += piece.count(b"\n")
        else:
            for byte in piece:
                if byte == 0x22:
                    quoted = not quoted
                elif byte == 0x0A and not quoted:
                    records += 1
        last = piece[-1:] or last
    if size and last != b"\n":
        records += 1  # the last record has no newline after it
    return TableFacts(columns, max(0, records - 1), spent)


def parquet_facts(read: RangeReader, size: int) -> TableFacts:
    """A parquet's columns and row count, from its footer alone."""
    import pyarrow.parquet as pq

    source = RangeFile(read, size, chunk=64 * 1024)
    meta = pq.ParquetFile(source).metadata
    return TableFacts(list(meta.schema.to_arrow_schema().names), int(meta.num_rows), source.bytes_read)


def table_facts(read: RangeReader, size: int, fmt: str, count_rows: bool = True) -> TableFacts:
    if fmt == "parquet":
        return parquet_facts(read, size)
    if fmt == "csv":
        return csv_facts(read, size, count_rows)
    raise ValueError(f"cannot read {fmt} tables: csv or parquet")


def read_table(read: RangeReader, size: int, fmt: str, columns: Sequence[str] | None = None) -> Any:
    """The table as a pandas DataFrame, only `columns` when given (a parquet reads only
    those column chunks; a CSV streams through once)."""
    import pandas as pd

    source = RangeFile(read, size)
    if fmt == "parquet":
        return pd.read_parquet(source, columns=list(columns) if columns else None)
    return pd.read_csv(io.BufferedReader(source, CHUNK), usecols=list(columns) if columns else None)
