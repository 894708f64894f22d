"""The embedder interface every provider implements, and the embed errors.

An :class:`Embedder` turns a list of texts into an (n, dim) float32 matrix of
L2-normalised rows. Subclasses implement ``_embed`` (raw vectors, any scale); this
class owns validation, normalisation and the dimension contract: ``dim`` is ``None``
until known, is learned from the first response, and once set (or preset from a
store's fingerprint) any vector of another size raises :class:`EmbedDimensionError`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from memman.errors import MemmanError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


class EmbedError(MemmanError):
    """An embedding request failed; ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, exit_code: int = 1, *, status: int | None = None):
        super().__init__(message, exit_code)
        self.status = status


class EmbedCredentialError(EmbedError):
    """A provider credential is missing or was rejected; ``key`` names the env-file key."""

    def __init__(self, key: str, message: str | None = None):
        super().__init__(message or (
            f"{key} is not set; run 'memman config set {key} ...'"))
        self.key = key


class EmbedDimensionError(EmbedError):
    """A provider returned vectors of a size other than the expected one."""


class Embedder:
    """Text -> unit vectors. Construction never touches the network."""

    provider: str = ""
    model: str = ""
    dim: int | None = None

    # -- what subclasses provide -------------------------------------------------
    def _embed(self, texts: list[str]):
        """Raw vectors for ``texts`` (same order, any norm): array-like (n, d)."""
        raise NotImplementedError

    @property
    def missing_key(self) -> str | None:
        """The env-file key this embedder needs but lacks, else None."""
        return None

    # -- the public API ----------------------------------------------------------
    @property
    def credentials_available(self) -> bool:
        return self.missing_key is None

    def check_credentials(self) -> None:
        """Raise EmbedCredentialError naming the missing key, if one is missing."""
        key = self.missing_key
        if key is not None:
            raise EmbedCredentialError(key)

    @property
    def fingerprint(self) -> dict:
        return {"provider": self.provider, "model": self.model, "dim": self.dim}

    def embed(self, texts: list[str]) -> "np.ndarray":
        """(len(texts), dim) float32, each row L2-normalised; empty input -> (0, dim or 0)."""
        import numpy as np

        if isinstance(texts, str):
            raise TypeError("embed() takes a list of texts; use embed_one() for one text")
        texts = list(texts)
        for text in texts:
            if not isinstance(text, str):
                raise EmbedError(f"cannot embed a {type(text).__name__}; texts must be str")
        if not texts:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        self.check_credentials()
        return self._accept(self._embed(texts), len(texts))

    def embed_one(self, text: str) -> "np.ndarray":
        """One text -> a (dim,) float32 unit vector."""
        return self.embed([text])[0]

    # -- helpers for subclasses --------------------------------------------------
    def _check_dim(self, got: int) -> None:
        """Learn ``dim`` from the first vectors; refuse any other size afterwards."""
        if self.dim is None:
            self.dim = got
        elif got != self.dim:
            raise EmbedDimensionError(
                f"{self.provider} model {self.model} returned {got}-dim vectors, expected "
                f"{self.dim} (the store's embed fingerprint); the model changed under the "
                f"same name or the endpoint serves another model")

    def _accept(self, raw, n: int) -> "np.ndarray":
        import numpy as np

        from memman.embed.vectors import normalise

        try:
            matrix = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError):
            raise EmbedError(f"malformed embeddings response from {self.provider}: "
                             f"vectors are not numeric lists") from None
        if matrix.ndim != 2 or matrix.shape[0] != n or matrix.shape[1] == 0:
            raise EmbedError(f"malformed embeddings response from {self.provider}: expected "
                             f"{n} vectors, got shape {matrix.shape}")
        if not np.isfinite(matrix).all():
            raise EmbedError(f"malformed embeddings response from {self.provider}: "
                             f"non-finite values")
        self._check_dim(int(matrix.shape[1]))
        return normalise(matrix)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.provider}:{self.model}:{self.dim}>"
