"""Reading the IDX format of MNIST: typed, n-dimensional arrays in big-endian bytes.

An IDX file starts with a 4-byte magic number: two zero bytes, a type
code (``0x08`` uint8, ``0x09`` int8, ``0x0B`` int16, ``0x0C`` int32,
``0x0D`` float32, ``0x0E`` float64) and the number of dimensions. Then
comes one big-endian uint32 per dimension, then the values, big-endian,
in C order. Files may be gzipped (recognised by their content, not their
name).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

from flambe.errors import DataError

# IDX type code -> numpy dtype of the values as stored (big-endian)
DATA_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"


def parse_idx(data: bytes, source: str = "IDX data") -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file.

    Parameters
    ----------
    data : bytes
        The whole file.
    source : str
        What the bytes come from (a file name), used in error messages.

    Returns
    -------
    np.ndarray
        The array, with its dimensions and the file's value type in native
        byte order (``uint8`` for MNIST).

    Raises
    ------
    DataError
        The data is shorter than its header says (truncated), longer, or
        does not start with an IDX magic number.

    """
    if len(data) < 4:
        raise DataError(
            f"{source} is not an IDX file: it has {len(data)} bytes, fewer than the "
            "4 of a magic number",
            hint="the file is truncated or empty",
        )
    zero, type_code, n_dims = struct.unpack(">HBB", data[:4])
    magic = int.from_bytes(data[:4], "big")
    if zero != 0 or type_code not in DATA_TYPES:
        raise DataError(
            f"{source} is not an IDX file: magic number 0x{magic:08X} is not one of "
            "0x000008NN-0x00000ENN",
            hint="check that the file is an IDX file (such as "
            "train-images-idx3-ubyte.gz) and not an HTML page or an archive",
        )
    header = 4 + 4 * n_dims
    if len(data) < header:
        raise DataError(
            f"{source} is truncated: its header announces {n_dims} dimensions but "
            f"the file has only {len(data)} bytes",
            hint="download the file again",
        )
    shape = struct.unpack(f">{n_dims}I", data[4:header])
    dtype = DATA_TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    body = len(data) - header
    if body < expected:
        raise DataError(
            f"{source} is truncated: shape {tuple(shape)} needs {expected} bytes of "
            f"values but the file has {body}",
            hint="download the file again",
        )
    if body > expected:
        raise DataError(
            f"{source} is corrupt: shape {tuple(shape)} needs {expected} bytes of "
            f"values but the file has {body}",
            hint="the header does not match the data; download the file again",
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_bytes(path: str) -> bytes:
    """The content of ``path``, decompressed when it is gzipped.

    Raises
    ------
    DataError
        The file does not exist, cannot be read, or is a broken gzip stream.

    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError as exc:
        raise DataError(f"{path} does not exist", hint="check the path") from exc
    except OSError as exc:
        raise DataError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise DataError(
            f"{path} is a corrupt or truncated gzip file: {exc}", hint="download the file again"
        ) from exc


def read_idx(path: str, expect: tuple[int, int] | None = None, what: str = "") -> np.ndarray:
    """Read an IDX file, gzipped or not.

    Parameters
    ----------
    path : str
        The file.
    expect : (type code, number of dimensions), optional
        Refuse files whose magic number says otherwise (``(0x08, 3)`` for
        MNIST images, ``(0x08, 1)`` for labels).
    what : str
        What the file should hold (``"images"``), for error messages.

    Raises
    ------
    DataError
        Everything :func:`parse_idx` and :func:`read_bytes` raise, and a
        magic number other than the one expected; the message names the file.

    """
    data = read_bytes(path)
    if expect is not None and len(data) >= 4:
        zero, type_code, n_dims = struct.unpack(">HBB", data[:4])
        if zero == 0 and type_code in DATA_TYPES and (type_code, n_dims) != expect:
            wanted = (expect[0] << 8) | expect[1]
            found = int.from_bytes(data[:4], "big")
            raise DataError(
                f"{path}: magic number 0x{found:08X} ({n_dims}-D {DATA_TYPES[type_code].name}) "
                f"does not match 0x{wanted:08X}, the magic number of MNIST {what or 'data'}",
                hint="check that the images and labels files are not swapped",
            )
    return parse_idx(data, source=os.fspath(path))
