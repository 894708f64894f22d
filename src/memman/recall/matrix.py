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

``VectorView`` answers the SQLite backend's vector verbs from the file plus the
store's newer rows; a Postgres store has no file and answers from its HNSW index.
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
    if not os.path.isdir(str(store_dir)):
        return 0  # a store without a folder (Postgres) answers from its own index
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


# A hit below this cosine is noise, whatever the index says.
VECTOR_MIN_SIM = 0.10


class VectorView:
    """Query similarities for a SQLite store: the precomputed file plus anything newer."""

    def __init__(self, backend, store_dir, fingerprint, qvec):
        self.qvec = qvec
        self.sims: dict[str, float] = {}   # id -> cosine, for memories known by id
        self.by_seq = None                 # (seqs, sims) arrays from the matrix
        self.source = "none"
        if qvec is None:
            return
        import numpy as np

        matrix = Matrix.open(store_dir, fingerprint)
        tail_after, changed = 0, None
        if matrix is not None:
            self.by_seq = (matrix.seqs, matrix.vectors @ qvec)
            tail_after, changed = matrix.max_seq, matrix.header.get("written_at")
            self.source = "matrix"
        else:
            self.source = "store"
        dim = int((fingerprint or {}).get("dim") or 0)
        for _, insight_id, blob in backend.vectors_after(tail_after, changed_since=changed):
            if dim and len(blob) == 4 * dim and len(qvec) == dim:
                self.sims[insight_id] = float(np.frombuffer(blob, dtype="<f4") @ qvec)

    def top(self, backend, k: int, *, min_sim: float = VECTOR_MIN_SIM, category=None,
            source=None) -> list[tuple[str, float]]:
        import numpy as np

        found: list[tuple[str, float]] = []
        if self.by_seq is not None and len(self.by_seq[0]):
            seqs, sims = self.by_seq
            want = min(len(sims), k * (4 if category or source else 2))
            idx = np.argpartition(-sims, want - 1)[:want]
            idx = idx[np.argsort(-sims[idx])]
            idx = [i for i in idx if sims[i] >= min_sim]
            alive = backend.ids_for_seqs([int(seqs[i]) for i in idx], category=category,
                                         source=source)
            for i in idx:
                insight_id = alive.get(int(seqs[i]))
                if insight_id is not None and insight_id not in self.sims:
                    found.append((insight_id, float(sims[i])))
        fresh = sorted(self.sims.items(), key=lambda kv: -kv[1])
        if fresh and (category or source):
            keep = {i.id for i in backend.get_insights([i for i, _ in fresh[:k * 4]])
                    if (not category or i.category == category)
                    and (not source or i.source == source)}
            fresh = [kv for kv in fresh if kv[0] in keep]
        found += [kv for kv in fresh[:k] if kv[1] >= min_sim]
        found.sort(key=lambda kv: -kv[1])
        return found[:k]

    def similarity(self, backend, insight_ids: list[str]) -> dict[str, float]:
        import numpy as np

        out = {i: self.sims[i] for i in insight_ids if i in self.sims}
        missing = [i for i in insight_ids if i not in out]
        if missing and self.by_seq is not None and len(self.by_seq[0]):
            seqs, sims = self.by_seq
            wanted = backend.seqs_for_ids(missing)
            positions = np.searchsorted(seqs, [wanted[i] for i in missing if i in wanted])
            for insight_id, pos in zip([i for i in missing if i in wanted], positions,
                                       strict=True):
                if pos < len(seqs) and seqs[pos] == wanted[insight_id]:
                    out[insight_id] = float(sims[pos])
        return out
