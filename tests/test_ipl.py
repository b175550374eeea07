"""The IPL network (edgemef.models.ipl): shapes, the readings of the paper's equations, complexity."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="the IPL network needs the authoring extra (torch)")

from edgemef.models.ipl import IPL, IPLConfig, complexity  # noqa: E402
from edgemef.models.ipl.network import DAEM, DRTM, LFE  # noqa: E402


@pytest.mark.parametrize("n_exposures", [2, 3])
def test_fuses_a_bracket_of_any_even_size(n_exposures: int) -> None:
    torch.manual_seed(0)
    model = IPL(IPLConfig(n_exposures=n_exposures)).eval()
    frames = torch.rand(2, 3 * n_exposures, 70, 94)
    with torch.no_grad():
        fused = model(frames)
    assert fused.shape == (2, 3, 70, 94) and torch.isfinite(fused).all()
    with pytest.raises(ValueError, match="multiples of 2"):
        model(torch.rand(1, 3 * n_exposures, 71, 94))
    with pytest.raises(ValueError, match="expects"):
        model(torch.rand(1, 3 * (n_exposures + 1), 64, 64))


def test_output_multiplies_the_middle_exposure() -> None:
    three, two = IPL(IPLConfig(n_exposures=3)), IPL(IPLConfig(n_exposures=2))
    frames = torch.rand(1, 9, 8, 8)
    assert torch.equal(three.reference(frames), frames[:, 3:6])
    assert torch.allclose(two.reference(frames[:, :6]), (frames[:, :3] + frames[:, 3:6]) / 2)
    dark_middle = frames.clone()
    dark_middle[:, 3:6] = 0
    with torch.no_grad():
        assert torch.equal(three(dark_middle), torch.zeros(1, 3, 8, 8))  # Y = UpSampler(...) * X2


def test_lfe_weights_are_eqs_1_and_2_on_the_pooled_chunk() -> None:
    lfe = LFE(4)
    pooled = torch.rand(2, 4)
    expected = torch.sigmoid(lfe.conv2(torch.relu(lfe.conv1(pooled))))
    assert torch.allclose(lfe(pooled), expected) and ((expected > 0) & (expected < 1)).all()


def chunk_lfe(x: torch.Tensor, lfe: LFE) -> torch.Tensor:
    """Eqs. 1-3 on one chunk, written out: GAP -> channel weights -> chunk * weights."""
    weights = lfe(x.mean(dim=(2, 3)))  # B x C
    return x * weights[:, :, None, None]


def test_the_cyclic_scanner_is_lfe_on_each_chunk_in_place() -> None:
    """DAEM's one-pass form equals scanning every chunk of each axis with its LFE: whole bands (the pooling
    path of exported tiles) and ragged last chunks (the summing path)."""
    torch.manual_seed(0)
    daem = DAEM(channels=48, chunk=16)
    for shape, bands in (((2, 48, 20, 40), (2, 3)), ((2, 48, 32, 48), (2, 3))):
        x = torch.rand(*shape)

        def scan(dim: int, lfe: LFE, x: torch.Tensor = x) -> torch.Tensor:
            return torch.cat([chunk_lfe(part, lfe) for part in torch.split(x, 16, dim=dim)], dim=dim)

        expected = scan(1, daem.lfe_channel) + scan(2, daem.lfe_height) + scan(3, daem.lfe_width)
        assert torch.allclose(daem(x), expected, atol=1e-6)  # the three axes' outputs summed
        a_c, a_h, a_w = daem.attention(x)
        assert a_c.shape == (2, 48) and a_h.shape == (2, 48, bands[0]) and a_w.shape == (2, 48, bands[1])


def test_replay_with_the_attention_weights_is_the_forward_pass() -> None:
    torch.manual_seed(0)
    model = IPL().eval()
    frames = torch.rand(1, 9, 64, 96)
    with torch.no_grad():
        fused, attention = model.forward_with_attention(frames)
        assert torch.equal(fused, model(frames))
        assert len(attention) == 8 and attention[0][1].shape == (1, 48, 2)
        assert torch.equal(model.replay(frames, attention), fused)
        # Other weights give another image: replay really uses what it is given.
        other = [tuple(0.5 * torch.ones_like(t) for t in weights) for weights in attention]
        assert not torch.allclose(model.replay(frames, other), fused)


def test_drtm_is_an_attention_map_on_its_input() -> None:
    drtm = DRTM(channels=8, size=16)
    x = torch.rand(1, 8, 30, 50)
    out = drtm(x)
    assert out.shape == x.shape
    assert torch.equal(drtm(torch.zeros_like(x)), torch.zeros_like(x))  # eq. 12: ... * F_in


def test_trains() -> None:
    model = IPL()
    frames, target = torch.rand(1, 9, 32, 32), torch.rand(1, 3, 32, 32)
    torch.nn.functional.l1_loss(model(frames), target).backward()  # eq. 15
    assert all(p.grad is not None for p in model.parameters())


def test_complexity_is_counted_like_the_paper() -> None:
    params, macs = complexity(IPLConfig(), size=256)
    assert params == sum(p.numel() for p in IPL().parameters())
    down = 256 * 256 * 12 * 9 * 9  # the DownSampler's 3x3 conv, 9 -> 48 / 2**2 channels at full resolution
    up = 256 * 256 * 3 * 12 * 9  # the UpSampler's 3x3 conv after the pixel shuffle, 12 -> 3 channels
    chunks = 48 // 16 * 16 * 16 + 2 * (128 // 16) * 48 * 48  # LFE weights: 3 channel chunks, 8 + 8 bands
    drtm = 16 * 16 * 48 * 48 + 2 * 16 * 16 * 16 * 48
    assert macs == down + up + 8 * (2 * chunks + drtm)
    assert 80e6 < macs < 100e6  # the paper: 66.95 M
