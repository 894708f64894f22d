"""The recall vector file ``data/<store>/recall_vectors.v1.bin``.

Written by the worker after each drain (tmp file, fsync, rename); memory-mapped by
recall, so a query costs one matrix-vector product, not a scan of the store. Layout:

    b"MMV1" | u32 header length | header JSON | padding to 64 bytes
    | int64 seq[count] | float32 matrix[count, dim]

The header records the store's embedder fingerprint and the largest ``seq``
covered. The file is only an accelerator: recall checks every hit against the
store (deleted and changed memories are filtered or re-read there) and adds the
vectors of memories written after the file (``seq > max_seq``) from the store, so a
stale or missing file gives slower answers, never wrong ones.
"""
import json
import mmap
import os
import struct

MAGIC = b"MMV1"
FILENAME = "recall_vectors.v1.bin"
ALIGN = 64


def path_for(store_dir) -> str:
    return os.path.join(str(store_dir), FILENAME)


def write(store_dir, fingerprint: dict, rows: list[tuple[int, bytes]], written_at: str) -> int:
    """Write the file from (seq, float32 blob) rows; returns the number of vectors."""
    dim = int(fingerprint.get("dim") or 0)
    good = [(seq, blob) for seq, blob in rows if dim and blob and len(blob) == 4 * dim]
    header = json.dumps({
        "version": 1, "fingerprint": fingerprint, "dim": dim, "count": len(good),
        "max_seq": max((s for s, _ in rows), default=0), "written_at": written_at,
    }, sort_keys=True).encode("utf-8")
    head = MAGIC + struct.pack("<I", len(header)) + header
    head += b"\0" * (-len(head) % ALIGN)
    final = path_for(store_dir)
    tmp = final + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(head)
        fh.write(struct.pack(f"<{len(good)}q", *(s for s, _ in good)))
        for _, blob in good:
            fh.write(blob)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, final)
    return len(good)


class Matrix:
    """A read-only view of the file: ``seqs`` (int64) and ``vectors`` (float32)."""

    def __init__(self, header: dict, seqs, vectors, handle):
        self.header = header
        self.seqs = seqs
        self.vectors = vectors
        self._handle = handle

    @property
    def max_seq(self) -> int:
        return int(self.header.get("max_seq", 0))

    @classmethod
    def open(cls, store_dir, fingerprint: dict | None) -> "Matrix | None":
        """The file if it exists, is intact and matches ``fingerprint``; else None."""
        import numpy as np

        try:
            fh = open(path_for(store_dir), "rb")
        except FileNotFoundError:
            return None
        try:
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # empty file
            fh.close()
            return None
        fh.close()
        try:
            if mm[:4] != MAGIC:
                raise ValueError("bad magic")
            (length,) = struct.unpack("<I", mm[4:8])
            header = json.loads(mm[8:8 + length])
            start = 8 + length
            start += -start % ALIGN
            count, dim = int(header["count"]), int(header["dim"])
            if fingerprint is None or header.get("fingerprint") != fingerprint:
                raise ValueError("fingerprint mismatch")
            if len(mm) < start + count * 8 + count * dim * 4:
                raise ValueError("truncated")
            seqs = np.frombuffer(mm, dtype="<i8", count=count, offset=start)
            vectors = np.frombuffer(mm, dtype="<f4", count=count * dim,
                                    offset=start + count * 8).reshape(count, dim)
        except (ValueError, KeyError, struct.error):
            mm.close()
            return None
        return cls(header, seqs, vectors, mm)
