"""`make screenshots` (docs/screenshots.py): a small set, each file a real PNG of the width asked."""

from __future__ import annotations

import importlib.util
import os
import struct
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest

from tests.browser.conftest import DEFAULT_CHROMIUM, INSTALL_CHROMIUM, chromium_executable

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "screenshots.py"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Smaller than any real page: a blank or broken shot is a few hundred bytes.
SMALLEST = 5_000


def load_script() -> ModuleType:
    """Import docs/screenshots.py (a script, not a package module) under its own name."""
    spec = importlib.util.spec_from_file_location("docs_screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


def png_size(path: Path) -> tuple[int, int]:
    """Return (width, height) from a PNG's IHDR chunk; fail if it is not a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert head[12:16] == b"IHDR", f"{path.name} does not start with its IHDR chunk"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def run_main(script: ModuleType, *args: str) -> int:
    """Run the script's main(args) in a thread of its own; return its exit status.

    Playwright's sync API refuses to start inside the event loop pytest-playwright keeps
    on this thread for the other browser tests; a thread has no loop of its own.
    """
    outcome: list[int | BaseException] = []

    def target() -> None:
        try:
            outcome.append(script.main(list(args)))
        except BaseException as error:  # re-raised below, on the test's thread
            outcome.append(error)

    worker = threading.Thread(target=target, name="screenshots", daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "docs/screenshots.py took over 120 s"
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


@pytest.fixture(scope="module")
def script() -> ModuleType:
    if chromium_executable() is None:
        wanted = os.environ.get("BROWSER") or DEFAULT_CHROMIUM
        pytest.skip(f"no Chromium at {wanted}; {INSTALL_CHROMIUM}")
    return load_script()


def test_english_and_clinician_pages_at_320_pixels(script: ModuleType, tmp_path: Path) -> None:
    assert (
        run_main(script, "--only", "en,clinician", "--widths", "320", "--out", str(tmp_path)) == 0
    )

    expected = {f"en-320-{name}.png" for name in script.page_names()}
    expected |= {f"clinician-320-{name}.png" for name in script.CLINICIAN_NAMES}
    saved = {path.name for path in tmp_path.iterdir()}
    assert saved == expected  # nothing in French, nothing at another width
    for name in sorted(saved):
        path = tmp_path / name
        width, height = png_size(path)
        assert width == 320 * script.SCALE, name
        assert height >= 640 * script.SCALE, name  # full page: at least the window
        assert path.stat().st_size > SMALLEST, name


def test_a_full_page_is_taller_than_the_window(script: ModuleType, tmp_path: Path) -> None:
    assert run_main(script, "--only", "fr-CA", "--widths", "1280", "--out", str(tmp_path)) == 0
    [check] = [name for name in script.page_names() if name.endswith("-check")]
    width, height = png_size(tmp_path / f"fr-CA-1280-{check}.png")
    assert (width, height > 800) == (1280, True)
    assert not list(tmp_path.glob("*-320-*")) and not list(tmp_path.glob("en-*"))


def test_unknown_options_are_refused(script: ModuleType) -> None:
    with pytest.raises(SystemExit):
        script.main(["--only", "de"])
    with pytest.raises(SystemExit):
        script.main(["--widths", "wide"])
