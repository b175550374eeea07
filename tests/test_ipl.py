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


def test_lfe_is_eqs_1_to_3() -> None:
    lfe = LFE(4)
    x = torch.rand(1, 4, 5, 6)
    gate = torch.sigmoid(lfe.conv2(torch.relu(lfe.conv1(x))))
    assert torch.allclose(lfe(x), x.mean(dim=(2, 3), keepdim=True) * gate)


def test_the_cyclic_scanner_runs_lfe_on_each_chunk_in_place() -> None:
    daem = DAEM(channels=48, chunk=16)
    x = torch.rand(1, 48, 20, 40)
    width = daem.scan(x, 3, daem.lfe_width)
    for k, start in enumerate(range(0, 40, 16)):
        chunk = x[..., start : start + 16]
        assert torch.allclose(width[..., start : start + 16], daem.lfe_width(chunk)), k
    channel = daem.scan(x, 1, daem.lfe_channel)
    assert torch.allclose(channel[:, 16:32], daem.lfe_channel(x[:, 16:32]))
    expected = channel + daem.scan(x, 2, daem.lfe_height) + width
    assert torch.allclose(daem(x), expected)  # the three axes' outputs summed


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
    up = 128 * 128 * 12 * 48 * 9  # the UpSampler's 3x3 conv, 48 -> 3 * 2**2 channels
    lfe = 8 * 128 * 128 * 2 * (3 * 16 * 16 + 2 * 48 * 48)  # 8 FIBs, per position: channel, height, width LFEs
    drtm = 8 * (16 * 16 * 48 * 48 + 2 * 16 * 16 * 16 * 48)
    assert macs == down + up + lfe + drtm
