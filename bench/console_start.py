"""The README Quickstart's console start, as a person sees it: time from launching
``ofisi`` in a terminal until the sign-in screen is drawn on it.

    python bench/console_start.py [--runs 7] [--ofisi PATH]

A demo database is made in a temp dir (``ofisi demo``, untimed). Each run starts
``ofisi console --database-url …`` on a fresh 80x24 pseudo-terminal and reads
what it draws until "Sign in to Ofisi" appears; then ctrl+q closes it. The first
run is the cold start (byte-code and files not yet in the OS cache), the rest
are warm. Besides the wall time it reports the CPU time the process used up to
its exit (user + sys, from ``getrusage``), which a busy machine does not inflate.
The floor is the interpreter starting and printing one line on the same kind
of terminal: what no console start can skip. It prints one JSON line::

    {"bench": "console_start", "cold_s": ..., "warm_p50_s": ..., "warm_best_s": ..., "warm_cpu_p50_s": ...,
     "floor_s": ..., "ratio_p50": ..., "load_1m": ..., "target_warm_s": 1.0}
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import resource
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

SIGN_IN = b"Sign in to Ofisi"


def cpu_so_far(pid: int) -> float | None:
    """CPU seconds (user + sys) process ``pid`` has used until now, where /proc tells it (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_in_terminal(argv: list[str], marker: bytes, env: dict[str, str], timeout: float = 60.0,
                    quit_keys: bytes = b"\x11") -> tuple[float, float, float | None]:
    """Start ``argv`` on an 80x24 pty; (seconds until ``marker`` is drawn, CPU seconds the process used
    until its exit, CPU seconds it had used when ``marker`` was drawn)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                               start_new_session=True)
    os.close(slave)
    seen = b""
    shown = None
    cpu_at_marker = None
    try:
        while shown is None:
            if time.perf_counter() - start > timeout:
                raise SystemExit(f"gave up after {timeout}s waiting for {marker!r}")
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    seen = (seen + os.read(master, 65536))[-8192:]
                except OSError:
                    break
                if marker in seen:
                    shown = time.perf_counter() - start
                    cpu_at_marker = cpu_so_far(process.pid)
        os.write(master, quit_keys)
        deadline = time.perf_counter() + 10
        while process.poll() is None and time.perf_counter() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        if process.poll() is None:
            process.kill()
        process.wait()
    finally:
        os.close(master)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if shown is None:
        raise SystemExit(f"{argv[0]} ended before drawing {marker!r}")
    return shown, cpu, cpu_at_marker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--ofisi", default=str(Path(sys.executable).with_name("ofisi")))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/ofisi.db"
        env = {**os.environ, "XDG_STATE_HOME": f"{tmp}/state", "XDG_CONFIG_HOME": f"{tmp}/config",
               "XDG_DATA_HOME": f"{tmp}/data", "OFISI_DATABASE_URL": url, "TERM": "xterm-256color"}
        subprocess.run([args.ofisi, "demo"], env=env, check=True, capture_output=True)
        runs = [run_in_terminal([args.ofisi, "console", "--database-url", url], SIGN_IN, env)
                for _ in range(args.runs)]
        floor_argv = [sys.executable, "-c", "print('floor-ready', flush=True)"]
        floor = min(run_in_terminal(floor_argv, b"floor-ready", env, quit_keys=b"")[0] for _ in range(3))
    warm = runs[1:] or runs
    p50 = statistics.median(s for s, _c, _m in warm)
    drawn = [m for _s, _c, m in warm if m is not None]
    print(json.dumps({"bench": "console_start", "runs": args.runs, "cold_s": round(runs[0][0], 3),
                      "warm_p50_s": round(p50, 3), "warm_best_s": round(min(s for s, _c, _m in warm), 3),
                      "warm_cpu_p50_s": round(statistics.median(c for _s, c, _m in warm), 3),
                      "warm_cpu_to_sign_in_p50_s": round(statistics.median(drawn), 3) if drawn else None,
                      "floor_s": round(floor, 3), "ratio_p50": round(p50 / floor, 2),
                      "load_1m": round(os.getloadavg()[0], 1), "target_warm_s": 1.0}))


if __name__ == "__main__":
    main()
