"""IPL's int8 attention cache (edgemef.runtime.attention_cache): eqs. 5-8, reuse rules, budget, statistics."""

from __future__ import annotations

import numpy as np
import pytest

from edgemef.runtime.attention_cache import Q_MAX, Q_MIN, AttentionCache, dequantize, quantize_int8

RNG = np.random.default_rng(0)


@pytest.mark.parametrize(
    "tensor",
    [
        RNG.normal(0.3, 2.0, (48, 16, 16)),  # both signs
        RNG.uniform(0.2, 0.9, (8, 64)),  # positive only (sigmoid gates): the range is widened to 0
        -RNG.uniform(1.0, 5.0, (3, 7)),  # negative only
        np.full((4, 4), 0.37),  # constant
        np.zeros((5,)),
    ],
)
def test_quantization_round_trip_within_half_a_step(tensor: np.ndarray) -> None:
    quantized = quantize_int8(tensor)
    assert quantized.data.dtype == np.int8 and Q_MIN <= quantized.zero_point <= Q_MAX
    error = np.abs(dequantize(quantized) - tensor.astype(np.float32)).max()
    assert error <= quantized.scale / 2 + 1e-6
    assert quantized.nbytes == tensor.size + 8  # a quarter of fp32, plus scale and zero point


def test_zero_is_exact_and_the_formulas_match_the_paper() -> None:
    tensor = np.array([-1.0, 0.0, 0.5, 3.0], np.float32)
    quantized = quantize_int8(tensor)
    scale = (3.0 - -1.0) / (Q_MAX - Q_MIN)  # eq. 5
    zero_point = int(np.clip(np.rint(Q_MIN - -1.0 / scale), Q_MIN, Q_MAX))  # eq. 6
    assert quantized.scale == pytest.approx(scale) and quantized.zero_point == zero_point
    assert dequantize(quantized)[1] == 0.0
    assert list(quantized.data) == list(np.clip(np.rint(tensor / scale + zero_point), Q_MIN, Q_MAX))  # eq. 7


def test_exact_reuse_hits_identical_chunks_anywhere() -> None:
    cache = AttentionCache(budget_bytes=1 << 20)
    chunk = RNG.normal(size=(48, 8, 8)).astype(np.float32)
    output = 1 / (1 + np.exp(-chunk))
    assert cache.lookup(("fib0", "w", 0), chunk) is None
    cache.store(("fib0", "w", 0), chunk, output)
    hit = cache.lookup(("fib0", "w", 5), chunk.copy())  # same content at another position
    assert hit is not None and np.abs(hit - output).max() <= quantize_int8(output).scale / 2 + 1e-6
    changed = chunk.copy()
    changed[0, 0, 0] += 1e-3
    assert cache.lookup(("fib0", "w", 0), changed) is None  # threshold 0: any change misses
    assert (cache.stats.hits, cache.stats.misses) == (1, 2) and cache.stats.hit_rate == pytest.approx(1 / 3)


def test_threshold_reuse_tolerates_noise_not_motion() -> None:
    cache = AttentionCache(budget_bytes=1 << 20, threshold=0.02)
    chunk = RNG.uniform(0, 1, (48, 8, 8)).astype(np.float32)
    cache.store("slot", chunk, chunk * 0.5)
    noisy = chunk + RNG.normal(0, 0.01, chunk.shape).astype(np.float32)  # mean |noise| ~ 0.008
    assert cache.lookup("slot", noisy) is not None
    moved = np.roll(chunk, 3, axis=2)
    assert cache.lookup("slot", moved) is None
    assert cache.lookup("other slot", chunk) is None  # threshold mode matches by slot
    assert cache.lookup("slot", chunk[:, :4]) is None  # another shape never matches


def test_budget_evicts_least_recently_used_and_int8_is_four_times_smaller() -> None:
    chunks = [RNG.normal(size=(48, 16, 16)).astype(np.float32) for _ in range(4)]
    entry_bytes = quantize_int8(chunks[0]).nbytes
    cache = AttentionCache(budget_bytes=3 * entry_bytes)
    for index, chunk in enumerate(chunks[:3]):
        cache.store(index, chunk, chunk)
    assert cache.lookup(0, chunks[0]) is not None  # 0 becomes the most recently used
    cache.store(3, chunks[3], chunks[3])  # over budget: evicts 1, the least recently used
    assert cache.stats.evictions == 1 and len(cache) == 3
    assert cache.lookup(1, chunks[1]) is None and cache.lookup(2, chunks[2]) is not None
    assert cache.stats.bytes == 3 * entry_bytes <= cache.budget_bytes
    assert cache.stats.fp32_bytes / cache.stats.bytes == pytest.approx(4.0, rel=0.01)
    cache.clear()
    assert len(cache) == 0 and cache.stats.bytes == 0


def test_bad_settings() -> None:
    with pytest.raises(ValueError, match="budget"):
        AttentionCache(budget_bytes=0)
    with pytest.raises(ValueError, match="threshold"):
        AttentionCache(budget_bytes=100, threshold=-1)
    cache = AttentionCache(budget_bytes=10)
    big = np.zeros((100,), np.float32)
    cache.store("x", big, big)  # larger than the whole budget: not cached, nothing breaks
    assert len(cache) == 0 and cache.lookup("x", big) is None
