"""An in-memory matrix of a store's vectors, for similarity search in the worker."""
import numpy as np


class VectorIndex:
    def __init__(self, dim: int | None = None):
        self.dim = dim
        self.ids: list[str] = []
        self.pos: dict[str, int] = {}
        self.matrix = np.zeros((0, dim or 0), dtype=np.float32)
        self._live = np.zeros(0, dtype=bool)

    @classmethod
    def from_rows(cls, rows: list[tuple[str, bytes]], dim: int | None) -> "VectorIndex":
        index = cls(dim)
        if dim:
            good = [(i, b) for i, b in rows if b is not None and len(b) == 4 * dim]
            if good:
                index.ids = [i for i, _ in good]
                index.pos = {i: n for n, i in enumerate(index.ids)}
                index.matrix = np.frombuffer(b"".join(b for _, b in good),
                                             dtype="<f4").reshape(len(good), dim).copy()
                index._live = np.ones(len(good), dtype=bool)
        return index

    def __len__(self) -> int:
        return int(self._live[:len(self.ids)].sum())

    def upsert(self, insight_id: str, vector) -> None:
        vec = np.asarray(vector, dtype=np.float32).reshape(-1)
        if self.dim is None:
            self.dim = vec.shape[0]
            self.matrix = np.zeros((0, self.dim), dtype=np.float32)
        if vec.shape[0] != self.dim:
            return
        if insight_id in self.pos:
            n = self.pos[insight_id]
            self.matrix[n] = vec
            self._live[n] = True
            return
        n = len(self.ids)
        if n >= self.matrix.shape[0]:  # grow by doubling, not by one row per insert
            grown = np.zeros((max(16, 2 * n), self.dim), dtype=np.float32)
            grown[:n] = self.matrix[:n]
            self.matrix = grown
            live = np.zeros(grown.shape[0], dtype=bool)
            live[:n] = self._live[:n]
            self._live = live
        self.pos[insight_id] = n
        self.ids.append(insight_id)
        self.matrix[n] = vec
        self._live[n] = True

    def remove(self, insight_id: str) -> None:
        n = self.pos.get(insight_id)
        if n is not None:
            self._live[n] = False

    def search(self, vector, k: int, *, min_sim: float = -1.0,
               exclude: set[str] = frozenset()) -> list[tuple[str, float]]:
        if vector is None or not len(self.ids) or self.dim is None:
            return []
        vec = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vec.shape[0] != self.dim:
            return []
        n = len(self.ids)
        sims = self.matrix[:n] @ vec
        sims = np.where(self._live[:n], sims, -2.0)
        order = np.argsort(-sims)
        out = []
        for n in order:
            sim = float(sims[n])
            if sim < min_sim:
                break
            if self.ids[n] in exclude:
                continue
            out.append((self.ids[n], sim))
            if len(out) >= k:
                break
        return out
