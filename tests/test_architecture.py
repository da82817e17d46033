"""The one-way dependency rule and the repository layout."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_layout_is_as_designed():
    expected = {"console", "ussd", "commands", "core", "db", "config", "tests", "bench", "pyproject.toml",
                "README.md", ".ci"}
    # What the repository holds, not what tools left beside it (caches, a failed snapshot's report).
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if tracked.returncode == 0 and tracked.stdout:
        present = {line.split("/", 1)[0] for line in tracked.stdout.splitlines()} - {".gitignore"}
    else:
        present = {p.name for p in ROOT.iterdir() if not p.name.startswith(".git")}
    assert expected <= present
    extra = present - expected - {"ARCHITECTURE.md", ".venv", "venv", ".gitignore", ".pytest_cache",
                                  ".hypothesis", "ofisi.egg-info", "build", ".ruff_cache"}
    assert not extra, f"unexpected top-level entries: {sorted(extra)}"


def test_no_file_is_left_half_merged():
    """A merge's conflict markers never reach main: the docs and the code read as one version."""
    root = ROOT
    marker = re.compile(r"^(<{7} |>{7} )", re.MULTILINE)
    files = [root / "README.md", root / "ARCHITECTURE.md", *root.glob("bench/*.md")]
    for package in ("config", "db", "core", "console", "ussd", "commands", "tests", "bench"):
        files += [p for p in (root / package).rglob("*") if p.suffix in {".py", ".tcss", ".md", ".toml"}]
    assert [str(p.relative_to(root)) for p in files if marker.search(p.read_text(encoding="utf-8"))] == []
