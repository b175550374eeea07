"""Bad input never passes silently: a generated corpus of broken and unusual inputs (no binary blobs) run
through ``edgemef fuse`` (the default path, Mertens, an artifact) and the Pi runner's files source.

Every error case must exit 2 with exactly one line on stderr (native libraries included: file descriptor 2
is captured), no traceback, no file left in the output folder and the inputs unchanged; every accepted
case must exit 0 and write the fused image. Plus a property test over random small brackets, and SIGTERM /
SIGKILL during a large fusion.
"""

from __future__ import annotations

import hashlib
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from edgemef.artifacts import ARTIFACTS_DIR
from edgemef.cli.main import main
from tests.conftest import exposure_bracket, textured_scene

ARTIFACT = ARTIFACTS_DIR / "lut-student-int8-g33.tflite"
REPO = Path(__file__).resolve().parents[1]


def _frames(height: int = 40, width: int = 56) -> np.ndarray:
    return exposure_bracket(textured_scene(height, width), (0.25, 1.0, 4.0))


def _jpeg(frame: np.ndarray, **save: object) -> bytes:
    path_free = cv2.imencode(".jpg", frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    return path_free if not save else _pil_bytes(Image.fromarray(frame), "JPEG", **save)


def _png(frame: np.ndarray) -> bytes:
    return cv2.imencode(".png", frame[..., ::-1])[1].tobytes()


def _pil_bytes(image: Image.Image, fmt: str, **save: object) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def _huge_png_header(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _huge_jpeg_header(frame: np.ndarray, width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims ``width x height``."""
    data = bytearray(_jpeg(frame))
    at = data.find(b"\xff\xc0") + 5  # SOF0: length (2), precision (1), then height and width
    data[at : at + 4] = struct.pack(">HH", height, width)
    return bytes(data)


def _garble(data: bytes, start: float, length: int = 64) -> bytes:
    """Entropy-coded data replaced with other bytes (never making a marker), from ``start`` of the file."""
    out = bytearray(data)
    at = int(len(out) * start)
    for i in range(at, min(at + length, len(out) - 2)):
        out[i] = (out[i] * 7 + 13) % 0xFF
    return bytes(out)


def _bad_png_crc(frame: np.ndarray) -> bytes:
    data = bytearray(_png(frame))
    at = data.find(b"IDAT") + 8
    data[at] ^= 0xFF  # the chunk's data changes, its CRC no longer matches
    return bytes(data)


def _corrupt_huffman(frame: np.ndarray) -> bytes:
    data = bytearray(_jpeg(frame))
    at = data.find(b"\xff\xc4") + 5  # inside the first Huffman table's code counts
    for i in range(at, at + 16):
        data[i] = 0xFF
    return bytes(data)


def _tiff(pixels: np.ndarray, extra_tags: tuple = ()) -> bytes:
    """Uncompressed little-endian TIFF of H x W x S uint8 (S samples; beyond 3 declared as ExtraSamples)."""
    h, w, s = pixels.shape
    data = pixels.tobytes()
    entries = [
        (256, 3, 1, w),
        (257, 3, 1, h),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 2 if s >= 3 else 1),
        (273, 4, 1, 0),
        (277, 3, 1, s),
        (278, 3, 1, h),
        (279, 4, 1, len(data)),
        (284, 3, 1, 1),
    ]
    if s > 3:
        entries.append((338, 3, 1, 0) if s == 4 else (338, 3, s - 3, 0))
    entries += list(extra_tags)
    entries.sort()
    n = len(entries)
    ifd_offset = 8
    ifd_size = 2 + 12 * n + 4
    extra_at = ifd_offset + ifd_size
    extra = b""
    packed = []
    for tag, typ, count, value in entries:
        if tag == 338 and count > 1:
            payload = struct.pack(f"<{count}H", *([0] * count))
            packed.append(struct.pack("<HHII", tag, typ, count, extra_at + len(extra)))
            extra += payload
        elif typ == 3:
            packed.append(struct.pack("<HHIHH", tag, typ, count, value, 0))
        else:
            packed.append(struct.pack("<HHII", tag, typ, count, value))
    data_at = extra_at + len(extra)
    packed = [
        p if not p.startswith(struct.pack("<HH", 273, 4)) else struct.pack("<HHII", 273, 4, 1, data_at)
        for p in packed
    ]
    return (
        b"II*\x00"
        + struct.pack("<I", ifd_offset)
        + struct.pack("<H", n)
        + b"".join(packed)
        + b"\x00\x00\x00\x00"
        + extra
        + data
    )


Writer = Callable[[Path, np.ndarray], list[str]]  # writes the case's files into a folder, returns the args


def _bracket_with(middle: Callable[[np.ndarray], bytes] | None, name: str = "b.jpg") -> Writer:
    """Three frames, the middle one's bytes replaced by ``middle(frame)``."""

    def write(folder: Path, frames: np.ndarray) -> list[str]:
        paths = [folder / "a.jpg", folder / name, folder / "c.jpg"]
        for path, frame in zip(paths, frames, strict=True):
            path.write_bytes(_jpeg(frame))
        if middle is not None:
            paths[1].write_bytes(middle(frames[1]))
        return [str(p) for p in paths]

    return write


def _files(*contents: Callable[[np.ndarray], bytes | None]) -> Writer:
    def write(folder: Path, frames: np.ndarray) -> list[str]:
        paths = []
        for index, (content, frame) in enumerate(zip(contents, frames, strict=False)):
            path = folder / f"f{index}.bin"
            data = content(frame)
            if data is None:
                continue
            path.write_bytes(data)
            paths.append(str(path))
        return paths

    return write


def _special(kind: str) -> Writer:
    def write(folder: Path, frames: np.ndarray) -> list[str]:
        a, c = folder / "a.jpg", folder / "c.jpg"
        a.write_bytes(_jpeg(frames[0]))
        c.write_bytes(_jpeg(frames[2]))
        if kind == "fifo":
            os.mkfifo(folder / "b.jpg")
            middle = str(folder / "b.jpg")
        elif kind == "device":
            middle = "/dev/zero"
        elif kind == "hardlink":
            os.link(a, folder / "b.jpg")
            middle = str(folder / "b.jpg")
        elif kind == "symlink":
            (folder / "b.jpg").symlink_to(a)
            middle = str(folder / "b.jpg")
        elif kind == "same":
            middle = str(a)
        elif kind == "loop":
            (folder / "b.jpg").symlink_to(folder / "b.jpg")
            middle = str(folder / "b.jpg")
        elif kind == "folder":
            (folder / "b.jpg").mkdir()
            middle = str(folder / "b.jpg")
        elif kind == "empty-folder":
            (folder / "empty").mkdir()
            return [str(folder / "empty")]
        elif kind == "no-match":
            return [str(folder / "nothing*.jpg")]
        elif kind == "missing":
            middle = str(folder / "missing.jpg")
        else:
            raise AssertionError(kind)
        return [str(a), middle, str(c)]

    return write


def _sized(sizes: list[tuple[int, int]]) -> Writer:
    def write(folder: Path, frames: np.ndarray) -> list[str]:
        paths = []
        for index, ((height, width), gain) in enumerate(zip(sizes, (0.25, 1.0, 4.0), strict=False)):
            frame = exposure_bracket(textured_scene(height, width, seed=index), (gain,))[0]
            path = folder / f"s{index}.png"
            path.write_bytes(_png(frame))
            paths.append(str(path))
        return paths

    return write


def _converted(convert: Callable[[np.ndarray], bytes], suffix: str) -> Writer:
    def write(folder: Path, frames: np.ndarray) -> list[str]:
        paths = []
        for index, frame in enumerate(frames):
            path = folder / f"x{index}{suffix}"
            path.write_bytes(convert(frame))
            paths.append(str(path))
        return paths

    return write


def _exif_rotation(frame: np.ndarray, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _pil_bytes(Image.fromarray(frame), "JPEG", exif=exif.tobytes())


#: (id, writer, extra args, expected exit code, a word the error must contain)
ERRORS: list[tuple[str, Writer, list[str], str]] = [
    ("truncated-jpeg-10", _bracket_with(lambda f: _jpeg(f)[: len(_jpeg(f)) // 10]), [], "JPEG"),
    ("truncated-jpeg-90", _bracket_with(lambda f: _jpeg(f)[: len(_jpeg(f)) * 9 // 10]), [], "truncated"),
    (
        "cut-jpeg-with-eoi",
        _bracket_with(lambda f: _jpeg(f)[: len(_jpeg(f)) // 2] + b"\xff\xd9"),
        [],
        "corrupt",
    ),
    ("garbled-jpeg", _bracket_with(lambda f: _garble(_jpeg(f), 0.5)), [], "corrupt"),
    ("bad-huffman", _bracket_with(_corrupt_huffman), [], "corrupt"),
    ("truncated-png", _bracket_with(lambda f: _png(f)[: len(_png(f)) // 2], "b.png"), [], "truncated"),
    ("bad-png-crc", _bracket_with(_bad_png_crc, "b.png"), [], "corrupt"),
    ("zero-bytes", _bracket_with(lambda f: b""), [], "empty"),
    (
        "random-bytes",
        _bracket_with(lambda f: np.random.default_rng(1).bytes(500)),
        [],
        "not a supported image",
    ),
    ("text-as-jpeg", _bracket_with(lambda f: b"hello, not an image\n"), [], "not a supported image"),
    (
        "float-tiff",
        _converted(lambda f: cv2.imencode(".tiff", f.astype(np.float32) / 255)[1].tobytes(), ".tiff"),
        [],
        "sample type",
    ),
    (
        "tiff-5-extra-samples",
        _converted(lambda f: _tiff(np.concatenate([f, f[..., :2], f], axis=2)), ".tiff"),
        [],
        "TIFF",
    ),
    ("pixel-guard", _bracket_with(None), ["--max-pixels", "1000"], "guard"),
    (
        "decoder-limit",
        _bracket_with(lambda f: _huge_png_header(40000, 40000), "b.png"),
        ["--max-pixels", "0"],
        "decoder",
    ),
    (
        "decoder-limit-jpeg",
        _bracket_with(lambda f: _huge_jpeg_header(f, 40000, 40000)),
        ["--max-pixels", "0"],
        "decoder",
    ),
    ("mismatched-sizes", _sized([(40, 56), (40, 56), (42, 56)]), [], "differ in size"),
    ("single-frame", _files(_png), [], "at least 2"),
    ("fifo", _special("fifo"), [], "regular file"),
    ("device", _special("device"), [], "regular file"),
    ("hard-link-twice", _special("hardlink"), [], "given twice"),
    ("symlink-twice", _special("symlink"), [], "given twice"),
    ("same-path-twice", _special("same"), [], "given twice"),
    ("symlink-loop", _special("loop"), [], "b.jpg"),
    ("folder-as-frame", _special("folder"), [], "b.jpg"),
    ("empty-folder", _special("empty-folder"), [], "no "),
    ("glob-matching-nothing", _special("no-match"), [], "matched no files"),
    ("missing-file", _special("missing"), [], "no such file"),
]

#: inputs that are unusual but valid: (id, writer, extra args)
ACCEPTED: list[tuple[str, Writer, list[str]]] = [
    ("one-by-one", _sized([(1, 1), (1, 1), (1, 1)]), []),
    ("one-by-n", _sized([(1, 37), (1, 37), (1, 37)]), []),
    ("odd-sizes", _sized([(5, 3), (5, 3), (5, 3)]), []),
    (
        "16-bit-png",
        _converted(lambda f: cv2.imencode(".png", f[..., ::-1].astype(np.uint16) * 257)[1].tobytes(), ".png"),
        [],
    ),
    ("grey-alpha", _converted(lambda f: _pil_bytes(Image.fromarray(f).convert("LA"), "PNG"), ".png"), []),
    ("cmyk-jpeg", _converted(lambda f: _pil_bytes(Image.fromarray(f).convert("CMYK"), "JPEG"), ".jpg"), []),
    ("palette-png", _converted(lambda f: _pil_bytes(Image.fromarray(f).convert("P"), "PNG"), ".png"), []),
    (
        "apng",
        _converted(
            lambda f: _pil_bytes(
                Image.fromarray(f), "PNG", save_all=True, append_images=[Image.fromarray(f)]
            ),
            ".png",
        ),
        [],
    ),
    ("exif-orientation-5", _converted(lambda f: _exif_rotation(f, 5), ".jpg"), []),
    ("exif-orientation-8", _converted(lambda f: _exif_rotation(f, 8), ".jpg"), []),
    ("tiff", _converted(lambda f: cv2.imencode(".tiff", f[..., ::-1])[1].tobytes(), ".tiff"), []),
    ("tiff-unknown-tag", _converted(lambda f: _tiff(f, ((65000, 3, 1, 7),)), ".tiff"), []),
]

MODES = {
    "default": [],
    "mertens": ["-m", "mertens"],
    "artifact": ["--artifact", str(ARTIFACT)],
}


def _digest(paths: list[str]) -> dict[str, str]:
    found = {}
    for p in paths:
        path = Path(p)
        if path.is_file() and not path.is_symlink():
            found[p] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _run(tmp_path: Path, writer: Writer, extra: list[str], mode: str, capfd: pytest.CaptureFixture[str]):
    inputs_dir, out_dir = tmp_path / "in", tmp_path / "out"
    inputs_dir.mkdir()
    out_dir.mkdir()
    args = writer(inputs_dir, _frames())
    before = _digest(args)
    capfd.readouterr()
    code = main(["fuse", *args, "-o", str(out_dir / "fused.jpg"), *MODES[mode], *extra])
    captured = capfd.readouterr()
    assert _digest(args) == before, "an input changed"
    return code, captured, out_dir


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize(("case", "writer", "extra", "word"), ERRORS, ids=[c[0] for c in ERRORS])
def test_error_is_one_line_and_leaves_nothing(
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    case: str,
    writer: Writer,
    extra: list[str],
    word: str,
    mode: str,
) -> None:
    code, captured, out_dir = _run(tmp_path, writer, extra, mode, capfd)
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code == 2, captured.err
    assert len(lines) == 1 and lines[0].startswith("edgemef fuse: error: "), captured.err
    assert word in lines[0] and "Traceback" not in captured.err
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize(("case", "writer", "extra"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_unusual_but_valid_input_fuses(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], case: str, writer: Writer, extra: list[str], mode: str
) -> None:
    code, captured, out_dir = _run(tmp_path, writer, extra, mode, capfd)
    assert code == 0, captured.err
    assert [p.name for p in out_dir.iterdir()] == ["fused.jpg"]
    assert "Traceback" not in captured.err and "warning" not in captured.err.lower()


def test_output_problems_are_refused_before_any_work(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    frames = _frames()
    paths = []
    for index, frame in enumerate(frames):
        path = tmp_path / f"-dash{index}.jpg"  # dash-leading names, given after --
        path.write_bytes(_jpeg(frame))
        paths.append(str(path))
    for output, word in (
        (tmp_path / "missing" / "f.jpg", "does not exist"),
        (Path(paths[0]), "one of the inputs"),
    ):
        capfd.readouterr()
        assert main(["fuse", "-o", str(output), "--", *paths]) == 2
        err = capfd.readouterr().err.strip().splitlines()
        assert len(err) == 1 and word in err[0]
    assert main(["fuse", "-m", "mertens", "-o", str(tmp_path / "ok.jpg"), "--", *paths]) == 0


def test_non_utf8_file_names(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    names = [os.fsdecode(b"frame-\xff%d.jpg" % index) for index in range(3)]
    for name, frame in zip(names, _frames(), strict=True):
        (tmp_path / name).write_bytes(_jpeg(frame))
    assert (
        main(["fuse", "-m", "mertens", *(str(tmp_path / n) for n in names), "-o", str(tmp_path / "f.jpg")])
        == 0
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(2, 4),
    height=st.integers(1, 48),
    width=st.integers(1, 48),
    seed=st.integers(0, 2**16),
)
def test_property_random_small_brackets_fuse(
    tmp_path_factory, n: int, height: int, width: int, seed: int
) -> None:
    folder = tmp_path_factory.mktemp("random")
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(n):
        path = folder / f"r{index}.png"
        path.write_bytes(_png(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)))
        paths.append(str(path))
    out = folder / "fused.png"
    assert main(["fuse", *paths, "-o", str(out)]) == 0
    fused = cv2.imread(str(out))
    assert fused.shape == (height, width, 3)


# ------------------------------------------------------------------------------------------ the Pi runner


@pytest.mark.slow
@pytest.mark.parametrize(("case", "writer", "extra", "word"), ERRORS[:8], ids=[c[0] for c in ERRORS[:8]])
def test_pi_runner_reports_skips_and_goes_on(
    tmp_path: Path, case: str, writer: Writer, extra: list[str], word: str
) -> None:
    """A bad bracket among good ones: reported in one line, skipped, counted; the good ones are fused."""
    shoot = tmp_path / "shoot"
    for name in ("a", "b", "c"):
        (shoot / name).mkdir(parents=True)
    for good in ("a", "c"):
        for index, frame in enumerate(_frames()):
            (shoot / good / f"f{index}.jpg").write_bytes(_jpeg(frame))
    bad_args = writer(shoot / "b", _frames())
    assert all(Path(p).parent == shoot / "b" for p in bad_args)
    out = tmp_path / "fused.jpg"
    script = REPO / "rpi" / "capture_and_fuse.py"
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            "--source",
            "files",
            "--input",
            str(shoot),
            "--artifact",
            str(ARTIFACT),
            "-o",
            str(out),
            "--runs",
            "4",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    skipped = [line for line in done.stderr.splitlines() if line.startswith("skipped a bad bracket")]
    assert skipped and all(word in line for line in skipped)
    assert "skipped" in done.stdout and "Traceback" not in done.stderr
    assert out.exists() and [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# ------------------------------------------------------------------------------------------ signals


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_stopped_fusion_leaves_nothing_after_the_next_run(tmp_path: Path, sig: signal.Signals) -> None:
    """A large fusion stopped at several moments (the last ones while it writes): SIGTERM leaves no output
    and no temporary; after SIGKILL a temporary may remain, and the next run removes it."""
    frames = exposure_bracket(textured_scene(1800, 2400), (0.25, 1.0, 4.0))
    paths = []
    for index, frame in enumerate(frames):
        path = tmp_path / f"big{index}.png"
        cv2.imwrite(str(path), frame[..., ::-1])
        paths.append(str(path))
    out = tmp_path / "out"
    out.mkdir()
    command = [
        str(Path(sys.executable).with_name("edgemef")),
        "fuse",
        "-m",
        "mertens",
        *paths,
        "-o",
        str(out / "f.png"),
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    full = time.perf_counter() - start
    (out / "f.png").unlink()
    for fraction in (0.5, 0.8, 0.9, 0.95, 0.98):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(full * fraction)
        process.send_signal(sig)
        _, err = process.communicate(timeout=300)
        leftovers = sorted(p.name for p in out.iterdir())
        if sig == signal.SIGTERM:
            assert leftovers in ([], ["f.png"]), leftovers  # finished first, or nothing
            # 143 with a message once edgemef's handler is in place; the default -15 when the signal
            # lands while the interpreter starts or after the command has returned (nothing to unwind).
            assert process.returncode in (0, 143, -signal.SIGTERM), process.returncode
            if process.returncode == 143:
                assert b"terminated" in err
        assert [
            name for name in leftovers if name not in ("f.png",) and not name.startswith(".f.png.edgemef-")
        ] == []
        if (out / "f.png").exists():
            assert cv2.imread(str(out / "f.png")) is not None  # never a partial image
            (out / "f.png").unlink()
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    assert sorted(p.name for p in out.iterdir()) == ["f.png"]  # the next run removed any stale temporary
