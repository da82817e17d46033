"""Running `ofisi` in the tests: the real executable (``Cli``, for what needs the installed entry
point, its exit codes and stderr, or a process of its own), or the same Typer app in this process
(``InProcessCli``, for everything else: a new interpreter per command costs a second or more)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

OFISI = shutil.which("ofisi", path=str(Path(sys.executable).parent))
BASE_CMD = [OFISI] if OFISI else [sys.executable, "-m", "commands.main"]


def cli_env(database_url: str, tmp_path, **extra: str) -> dict[str, str]:
    """The environment of an `ofisi` run on ``database_url``: nothing from the developer's shell,
    no keyring (a headless server), its own user directories, and the campaigns' quiet hours of the
    test that starts it (off unless it sets them), as the commands it runs in its own process see them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFISI_")}
    if "OFISI_CAMPAIGN_QUIET_HOURS" in os.environ:
        env["OFISI_CAMPAIGN_QUIET_HOURS"] = os.environ["OFISI_CAMPAIGN_QUIET_HOURS"]
    env.update(OFISI_DATABASE_URL=database_url, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
               XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_STATE_HOME=str(tmp_path / "state"), COLUMNS="200", **extra)
    return env


class Cli:
    """Runs the `ofisi` executable with one environment: ``cli("bookings", "list", …)``, or
    ``cli.start(…)`` for a Popen."""

    def __init__(self, env: dict[str, str], timeout: float = 90) -> None:
        self.env, self.timeout = env, timeout

    def __call__(self, *args: str, stdin: str | None = None, extra: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([*BASE_CMD, *args], input=stdin, capture_output=True, text=True, timeout=self.timeout,
                              env={**self.env, **(extra or {})})

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([*BASE_CMD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env)


class InProcessCli:
    """`ofisi` run in this process on ``database_url``: a domain refusal exits with its code and one
    line on stderr, as `commands.main.run` does; a bug is raised."""

    def __init__(self, database_url: str, monkeypatch) -> None:
        from config.settings import get_settings

        monkeypatch.setenv("OFISI_DATABASE_URL", database_url)
        monkeypatch.setenv("COLUMNS", "200")
        get_settings.cache_clear()

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        from typer.testing import CliRunner

        from commands.main import app
        from config.errors import OfisiError
        from config.settings import get_settings

        try:
            result = CliRunner().invoke(app, list(args), input=stdin)
        finally:
            get_settings.cache_clear()  # read again after the test, when its environment is gone
        if isinstance(result.exception, OfisiError):
            return subprocess.CompletedProcess(args, result.exception.exit_code, result.stdout,
                                               result.stderr + f"ofisi: {result.exception}\n")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def assert_refused(result, *needles):
    """A domain refusal: exit 1, one line on stderr that starts ``ofisi: ``, no traceback."""
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ofisi: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in result.stderr
