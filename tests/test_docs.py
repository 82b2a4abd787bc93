"""The documentation stays true: its commands exist, its settings are read, its links resolve."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from flask.cli import FlaskGroup, ScriptInfo

from questionnaire import create_app

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
FENCE = re.compile(r"^```(sh|shell|console|bash)\n(.*?)^```", re.M | re.S)
FLASK = re.compile(r"^(?:\S+=\S+\s+)*(?:\.venv/bin/)?flask\s+(?:--app\s+questionnaire\s+)?(.*)$")
MAKE = re.compile(r"^(?:\S+=\S+\s+)*make\s+(.*)$")
SCRIPT = re.compile(r"^(?:\S+=\S+\s+)*(?:\.venv/bin/)?python3?\s+(\S+\.py)\b")
SETTING = re.compile(r"`([A-Z][A-Z0-9_]{2,})`")
INLINE = re.compile(r"`((?:\.venv/bin/)?(?:flask|make|python3?) [^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _commands(page: Path) -> Iterator[str]:
    """Yield each command line of the page's shell blocks, continuations joined."""
    for block in FENCE.finditer(page.read_text(encoding="utf-8")):
        joined = re.sub(r"\\\n\s*", " ", block.group(2))
        for line in joined.splitlines():
            line = line.strip().removeprefix("$ ").strip()
            # A comment after the command is prose; a quoted "#" is not a comment.
            line = re.sub(r"\s+#\s.*$", "", line)
            if line and not line.startswith("#"):
                yield line


def _inline(page: Path) -> Iterator[str]:
    """Yield commands quoted inline (`flask purge --older-than DAYS`), not lists of choices."""
    for span in INLINE.findall(page.read_text(encoding="utf-8")):
        if " | " not in span and span.split()[-1] != "…":
            yield span


def _all_commands() -> list[tuple[str, str]]:
    return [
        (page.name, line)
        for page in PAGES
        for line in dict.fromkeys([*_commands(page), *_inline(page)])
    ]


def _make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][\w.-]*)\s*:", makefile, re.M))


@pytest.fixture(scope="module")
def flask_cli() -> Iterator[tuple[click.Group, click.Context]]:
    """The `flask` command as the shell sees it: Flask's own commands and the app's."""
    app = create_app({"TESTING": True})
    group = FlaskGroup(create_app=lambda: app)
    before = os.environ.get("FLASK_RUN_FROM_CLI")
    ctx = group.make_context("flask", ["--help"], resilient_parsing=True)
    ctx.ensure_object(ScriptInfo).load_app = lambda: app  # type: ignore[method-assign]
    # Looking a command up pushes the app's context onto ctx; closing ctx pops it, or every
    # later test's `flask` command would run against this app's empty database.
    with ctx:
        yield group, ctx
    if before is None:
        os.environ.pop("FLASK_RUN_FROM_CLI", None)


def _resolve(group: click.Group, ctx: click.Context, words: list[str]) -> click.Command:
    """Walk `words` down the command tree; return the command they name."""
    command: click.Command = group
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        found = command.get_command(ctx, words[0])
        assert found is not None, f"no command {words[0]!r} under {command.name!r}"
        command, words = found, words[1:]
    return command


def test_the_docs_show_commands_at_all() -> None:
    lines = [line for _, line in _all_commands()]
    assert sum(bool(FLASK.match(line)) for line in lines) >= 20
    assert sum(bool(MAKE.match(line)) for line in lines) >= 5


@pytest.mark.parametrize(("page", "line"), [c for c in _all_commands() if FLASK.match(c[1])])
def test_every_documented_flask_command_exists_with_its_options(
    flask_cli: tuple[click.Group, click.Context], page: str, line: str
) -> None:
    group, ctx = flask_cli
    match = FLASK.match(line)
    assert match is not None
    # "[--admin]" marks an optional flag, "…" a value left to the reader.
    words = [w.strip("[]") for w in shlex.split(match.group(1).replace("…", "X"))]
    words = [w.split("=", 1)[0] for w in words if w and w not in {"|", ">", "<"}]
    if "|" in match.group(1) or ">" in match.group(1):
        words = words[: len(shlex.split(match.group(1).split("|")[0].split(">")[0]))]
    command = _resolve(group, ctx, words)
    known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    known |= {"--help"}
    for word in words:
        if word.startswith("--"):
            assert word in known, f"{page}: `{line}` names {word}, which {command.name} lacks"


@pytest.mark.parametrize(("page", "line"), [c for c in _all_commands() if MAKE.match(c[1])])
def test_every_documented_make_target_exists(page: str, line: str) -> None:
    match = MAKE.match(line)
    assert match is not None
    targets = [w for w in shlex.split(match.group(1)) if "=" not in w and not w.startswith("-")]
    missing = set(targets) - _make_targets()
    assert not missing, f"{page}: `{line}` names make targets the Makefile lacks: {missing}"


@pytest.mark.parametrize(("page", "line"), [c for c in _all_commands() if SCRIPT.match(c[1])])
def test_every_documented_script_exists(page: str, line: str) -> None:
    match = SCRIPT.match(line)
    assert match is not None
    assert (ROOT / match.group(1)).is_file(), f"{page}: `{line}` runs a file that is not there"


def _settings_table() -> set[str]:
    """Setting names in the first column of the configuration table (docs/clinic-it.md)."""
    text = (ROOT / "docs" / "clinic-it.md").read_text(encoding="utf-8")
    table = text[
        text.index("## Configuration") : text.index("\n## ", text.index("## Configuration") + 5)
    ]
    names: set[str] = set()
    for row in table.splitlines():
        if row.startswith("| `"):
            names |= set(SETTING.findall(row.split("|")[1]))
    return names


def test_every_documented_setting_is_read_by_the_app() -> None:
    source = "\n".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "questionnaire").rglob("*.py")
    )
    names = _settings_table()
    assert len(names) >= 40
    unread = sorted(
        name
        for name in names
        # Per-language settings (CLINIC_NAME_FR_CA) are the base name with a locale suffix.
        if f'"{name}"' not in source and f'"{name.removesuffix("_FR_CA")}"' not in source
    )
    assert not unread, f"docs/clinic-it.md documents settings the app never reads: {unread}"


def _anchors(page: Path) -> set[str]:
    text = page.read_text(encoding="utf-8")
    return {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#{1,6} (.+)$", text, re.M)
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.exists(), f"{page.name}: link to {target}, which does not exist"
        if anchor and file.suffix == ".md":
            assert anchor in _anchors(file), f"{page.name}: no heading #{anchor} in {file.name}"


def test_the_readme_is_a_front_door() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    for page in ("patients", "clinicians", "clinical-leads", "clinic-it", "developers"):
        assert f"(docs/{page}.md)" in readme


def test_make_help_lists_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    phony = {t for line in re.findall(r"^\.PHONY:(.*)$", makefile, re.M) for t in line.split()}
    described = set(re.findall(r"^([a-z][a-z-]*):.*## ", makefile, re.M))
    assert phony <= described, f"targets make help would not list: {sorted(phony - described)}"
    listed = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for target in phony:
        assert f"make {target} " in listed, target
