"""IPL's attention cache with quantization compression (IPL paper, eqs. 4-9), torch-free.

IPL's Dynamic Attention Extraction Module runs its local feature extractor (LFE) on every chunk of the
features; the cache keeps each chunk's LFE output so that an unchanged chunk is read instead of recomputed
(eq. 4), and stores it as int8 to keep the cache small (eqs. 5-9). This module is that cache, independent of
the network: PyTorch inference and the torch-free runtime use the same one.

**Quantization** (eqs. 5-8): asymmetric, one scale and zero point per tensor, ``q`` in [-128, 127]::

    s  = (t_max - t_min) / (q_max - q_min)                    (5)
    zp = clamp(round(q_min - t_min / s), q_min, q_max)        (6)
    q  = clamp(round(t / s + zp), q_min, q_max)               (7; the paper prints t / (s + zp), a typo:
                                                                   eq. 8 only inverts t / s + zp)
    t' = s * (q - zp)                                         (8)

The range [t_min, t_max] is widened to include 0 (as PyTorch's observers do) so that zero, common after
ReLU-like gates, is exact and a constant tensor is representable; every value then decodes within ``s / 2``.

**The key** (the paper: "the block k"; its matching rule is not stated). A *slot* names where a chunk sits
(block, branch, chunk index); the cache compares the chunk's *input* with what that slot saw last:

- ``threshold == 0``: exact reuse only. Inputs are compared by a BLAKE2b digest of their bytes, and entries
  are shared by content, so identical chunks anywhere (a flat sky, a repeated frame) hit.
- ``threshold > 0``: a slot hits when the mean (``match="mean"``) or the largest (``match="max"``) absolute
  difference between its new input and the input it last stored is at most ``threshold`` (the input is kept
  as int8 for this comparison): a static-camera stream with sensor noise reuses the chunks that did not
  move. ``"max"`` on a pooled input (what IPL's runtime passes) ignores noise and still sees a small object.

Entries are evicted least-recently-used beyond ``budget_bytes`` (int8 payloads, scales and kept inputs all
counted); ``stats`` counts hits, misses, evictions and bytes, and what the same entries would take in fp32.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

Q_MIN, Q_MAX = -128, 127
_HEADER_BYTES = 8  # float32 scale + int32 zero point


@dataclass(frozen=True)
class QuantizedTensor:
    """An int8 tensor with its asymmetric scale and zero point (eqs. 5-7)."""

    data: np.ndarray  # int8
    scale: float
    zero_point: int

    @property
    def nbytes(self) -> int:
        return int(self.data.nbytes) + _HEADER_BYTES


def quantize_int8(tensor: np.ndarray) -> QuantizedTensor:
    """Eqs. 5-7, with the range widened to include zero."""
    values = np.asarray(tensor, dtype=np.float32)
    low = min(float(values.min(initial=0.0)), 0.0)
    high = max(float(values.max(initial=0.0)), 0.0)
    scale = (high - low) / (Q_MAX - Q_MIN) if high > low else 1.0
    zero_point = int(np.clip(np.rint(Q_MIN - low / scale), Q_MIN, Q_MAX))
    data = np.clip(np.rint(values / scale + zero_point), Q_MIN, Q_MAX).astype(np.int8)
    return QuantizedTensor(data, float(scale), zero_point)


def dequantize(quantized: QuantizedTensor) -> np.ndarray:
    """Eq. 8: float32 values within ``scale / 2`` of the quantized ones."""
    return (quantized.data.astype(np.float32) - np.float32(quantized.zero_point)) * np.float32(
        quantized.scale
    )


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0
    bytes: int = 0  # what the cache holds now (int8 payloads, headers, kept inputs)
    fp32_bytes: int = 0  # what the same outputs would take in float32

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


@dataclass
class _Entry:
    output: QuantizedTensor
    fp32_bytes: int
    signature: QuantizedTensor | None = None  # the input, for threshold matching

    @property
    def nbytes(self) -> int:
        return self.output.nbytes + (self.signature.nbytes if self.signature is not None else 0)


class AttentionCache:
    """LFE outputs by chunk, int8-compressed, under a byte budget (see the module docstring)."""

    def __init__(self, budget_bytes: int, threshold: float = 0.0, match: str = "mean") -> None:
        if match not in ("mean", "max"):
            raise ValueError(f"match must be 'mean' or 'max', got {match!r}")
        if budget_bytes <= 0:
            raise ValueError(f"the cache budget must be positive, got {budget_bytes} bytes")
        if threshold < 0:
            raise ValueError(f"the reuse threshold must be >= 0, got {threshold}")
        self.budget_bytes = int(budget_bytes)
        self.threshold = float(threshold)
        self.match = match
        self.stats = CacheStats()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()  # least recently used first

    def __len__(self) -> int:
        return len(self._entries)

    def _key(self, slot: Hashable, chunk_input: np.ndarray) -> Hashable:
        if self.threshold == 0.0:
            data = np.ascontiguousarray(chunk_input)
            digest = hashlib.blake2b(data.tobytes(), digest_size=16)
            digest.update(repr((data.shape, data.dtype.str)).encode())
            return digest.digest()
        return slot

    def lookup(self, slot: Hashable, chunk_input: np.ndarray) -> np.ndarray | None:
        """The cached LFE output for this chunk (decoded to float32), or ``None`` on a miss."""
        key = self._key(slot, chunk_input)
        entry = self._entries.get(key)
        if entry is not None and self.threshold > 0.0:
            assert entry.signature is not None
            reference = dequantize(entry.signature)
            if (
                reference.shape != chunk_input.shape
                or self._distance(reference, chunk_input) > self.threshold
            ):
                entry = None
        if entry is None:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        self._entries.move_to_end(key)
        return dequantize(entry.output)

    def _distance(self, reference: np.ndarray, chunk_input: np.ndarray) -> float:
        difference = np.abs(reference - np.asarray(chunk_input, np.float32))
        return float(difference.max() if self.match == "max" else difference.mean())

    def store(self, slot: Hashable, chunk_input: np.ndarray, output: np.ndarray) -> None:
        """Write a chunk's LFE output (after a miss), evicting least-recently-used entries over the budget."""
        key = self._key(slot, chunk_input)
        self._drop(key)
        signature = quantize_int8(chunk_input) if self.threshold > 0.0 else None
        entry = _Entry(quantize_int8(output), int(np.asarray(output).size) * 4, signature)
        if entry.nbytes > self.budget_bytes:
            return  # larger than the whole budget: not cached
        self._entries[key] = entry
        self.stats.bytes += entry.nbytes
        self.stats.fp32_bytes += entry.fp32_bytes
        while self.stats.bytes > self.budget_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)
            self.stats.evictions += 1

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self.stats.bytes -= entry.nbytes
        self.stats.fp32_bytes -= entry.fp32_bytes

    def clear(self) -> None:
        self._entries.clear()
        self.stats.bytes = self.stats.fp32_bytes = 0
