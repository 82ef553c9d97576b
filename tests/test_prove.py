"""``ctxcheck prove``: report content, expectations, determinism, escaping, a real browser."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from ctxcheck.report.prove import main, run

HOSTILE_MODEL = '''
"""A model whose strings try to break out: <script>alert("doc")</script>"""
from ctxcheck import Config, Machine, Model, Property, Struct, Variant, field, Cell, Expectation

class box(Struct):
    value: Cell = field(0)

def writer(k, b):
    v = yield k.load(b.value)
    yield k.store(b.value, v + 1)

def setup(m: Machine, cfg: Config):
    b = m.new(box, name="box")
    for i in range(2):
        m.spawn(f"T{i}<b>", writer, b)
    return b

def counted(m, b):
    """both increments counted"""
    if b.value.value != 2:
        return "<script>alert('message')</script> lost"
    return None

MODEL = Model(
    name="hostile.model",
    doc=__doc__,
    setup=setup,
    variants=(Variant("pre", "<i>racy</i>"), Variant("mutant-no-fix", "fix removed")),
    properties=(Property("counted", "both increments", counted, final=True),),
    expectations=(
        Expectation("pre", holds=False, properties=("counted",), reason="<script>x</script>"),
        Expectation("mutant-no-fix", holds=False, properties=("counted",), reason="caught"),
    ),
)
'''


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    path = tmp_path / "hostile_model.py"
    path.write_text(HOSTILE_MODEL)
    return path


def test_reports_list_every_variant_and_property(
    hostile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # replay paths as a reviewer sees them: reports/...
    out = Path("rep")
    reports, _, status = run([str(hostile), "examples.lost_update"], out)
    assert status == 0
    text = (out / "proof.txt").read_text()
    md = (out / "proof.md").read_text()
    page = (out / "index.html").read_text()
    for mr in reports:
        for vr in mr.variants:
            assert f"{mr.model.name} / {vr.variant}:" in text
            assert f"`{vr.variant}`" in md
            assert f">{vr.variant}<" in page
        for prop in mr.model.property_names():
            assert prop in page
    assert "mutant-no-fix" in text and "CAUGHT by counted" in text
    assert all(len(line) <= 80 for line in text.splitlines())


def test_counterexample_artifacts_are_written(hostile: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    reports, _, _ = run([str(hostile)], out)
    art = reports[0].variants[0].artifacts["counted"]
    assert (out / art["json"]).is_file()
    assert (out / art["lanes"]).read_text().lstrip().startswith(("<svg", "<?xml"))
    assert (out / art["graph"]).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_a_counterexample_the_proof_no_longer_has_is_removed(hostile: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    reports, _, _ = run([str(hostile)], out)
    art = Path(reports[0].variants[0].artifacts["counted"]["json"])
    stale = out / art.parent / "post.gone_property.json"
    stale.write_text("{}")
    run([str(hostile)], out)
    assert not stale.exists() and (out / art).is_file()


def test_html_escapes_model_strings(hostile: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    run([str(hostile)], out)
    page = (out / "index.html").read_text()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;message&#x27;)&lt;/script&gt;" in page
    assert "&lt;i&gt;racy&lt;/i&gt;" in page
    assert "http://" not in page.replace("http://www.w3.org", "")


def test_text_and_markdown_are_byte_identical_between_runs(tmp_path: Path) -> None:
    run(["examples.lost_update"], tmp_path / "a")
    run(["examples.lost_update"], tmp_path / "a2")
    a, b = tmp_path / "a", tmp_path / "a2"
    # the output directory's name appears in the replay commands: compare after renaming
    assert (a / "proof.txt").read_text().replace(str(a), "OUT") == (
        b / "proof.txt"
    ).read_text().replace(str(b), "OUT")
    first = (a / "proof.md").read_bytes()
    run(["examples.lost_update"], a)
    assert (a / "proof.md").read_bytes() == first
    assert "executions" in (a / "timings.txt").read_text()


def test_unmet_expectation_fails_with_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "wrong.py"
    model.write_text(
        HOSTILE_MODEL.replace(
            'Expectation("pre", holds=False, properties=("counted",)',
            'Expectation("pre", holds=True, properties=()',
        )
    )
    status = main([str(model)], str(tmp_path / "rep"))
    assert status == 1
    out = capsys.readouterr().out
    assert "FAILED hostile.model [pre]: expected to hold, but violated: counted" in out


def test_missed_mutant_fails(tmp_path: Path) -> None:
    model = tmp_path / "missed.py"
    model.write_text(HOSTILE_MODEL.replace("range(2)", "range(1)").replace("!= 2", "!= 1"))
    reports, _, status = run([str(model)], tmp_path / "rep")
    assert status == 1
    assert [r.status for r in reports[0].mutants] == ["MISSED"]


def test_unknown_target_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ctxcheck.cli", "prove", "no.such.model", "-o", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "unknown model 'no.such.model'" in proc.stderr


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_page_renders_in_headless_chromium(hostile: Path, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is needed for this test: .ci/run installs it (apt-get)"
    out = tmp_path / "rep"
    run([str(hostile), "examples.lost_update"], out)
    shot = tmp_path / "page.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1280,1600", f"--screenshot={shot}", (out / "index.html").as_uri()],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    width, height, pixels = _png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 1600)
    # a blank page is one colour: count distinct byte values in the image data
    assert len(set(pixels)) > 50
