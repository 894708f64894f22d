"""Vector plumbing: the on-disk blob format, normalisation and cosine.

Stored vectors are little-endian float32 blobs (4 bytes per component). Legacy
float64 blobs (8 bytes per component, as written by memman 0.16) are still read when
the caller says which dim to expect.
"""
from __future__ import annotations

import numpy as np

from memman.embed.base import EmbedDimensionError, EmbedError

_F32 = np.dtype("<f4")
_F64 = np.dtype("<f8")


def to_blob(vec) -> bytes:
    """A 1-D vector -> little-endian float32 bytes."""
    arr = np.asarray(vec, dtype=_F32)
    if arr.ndim != 1:
        raise ValueError(f"to_blob takes one vector, got shape {arr.shape}")
    return arr.tobytes()


def from_blob(b: bytes, dim: int | None = None) -> np.ndarray:
    """Bytes -> a writable float32 vector. With ``dim``, a blob of exactly ``8*dim``
    bytes is read as legacy float64; a float32 blob of another size than ``dim``
    raises EmbedDimensionError."""
    b = bytes(b)
    if dim is not None and len(b) == 8 * dim:
        return np.frombuffer(b, dtype=_F64).astype(np.float32)
    if len(b) % 4:
        raise EmbedError(f"corrupt vector blob: {len(b)} bytes is not a whole number of "
                         f"float32 values")
    vec = np.frombuffer(b, dtype=_F32).astype(np.float32)
    if dim is not None and vec.shape[0] != dim:
        raise EmbedDimensionError(f"stored vector has {vec.shape[0]} dims, expected {dim}")
    return vec


def stack_blobs(blobs, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Blobs (None allowed) -> ((n, dim) float32 matrix, (n,) bool mask of usable rows).
    Missing, corrupt or wrong-size vectors give a zero row and ``False``."""
    matrix = np.zeros((len(blobs), dim), dtype=np.float32)
    mask = np.zeros(len(blobs), dtype=bool)
    for i, blob in enumerate(blobs):
        if not blob:
            continue
        try:
            matrix[i] = from_blob(blob, dim)
        except EmbedError:
            continue
        mask[i] = True
    return matrix, mask


def normalise(matrix) -> np.ndarray:
    """A float32 copy with every row (or the vector) scaled to unit L2 norm; zero rows
    stay zero."""
    arr = np.array(matrix, dtype=np.float64)  # norms in float64: unit rows stay ~1.0
    if arr.ndim == 1:
        norm = float(np.linalg.norm(arr))
        return (arr / norm if norm > 0 else arr).astype(np.float32)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    np.divide(arr, norms, out=arr, where=norms > 0)
    return arr.astype(np.float32)


def cosine_matrix(query_vec, matrix) -> np.ndarray:
    """(n,) cosine of ``query_vec`` against every row of ``matrix``; both are assumed
    L2-normalised, so this is one matrix-vector product."""
    q = np.asarray(query_vec, dtype=np.float32).reshape(-1)
    m = np.asarray(matrix, dtype=np.float32)
    if m.size == 0:
        return np.zeros(m.shape[0] if m.ndim == 2 else 0, dtype=np.float32)
    if m.ndim != 2 or m.shape[1] != q.shape[0]:
        raise EmbedDimensionError(f"query vector has {q.shape[0]} dims, stored vectors have "
                                  f"{m.shape[-1]}")
    return m @ q
