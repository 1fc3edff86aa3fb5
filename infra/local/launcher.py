"""Start the local platform as a user does (``python -m infra.local``, what ``make local`` runs) in a
child process, on ports the system picks, and know where it listens: for the end-to-end tests
and ``make bench``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"^ready api=(\S+) aws=(\S+)$")


@dataclass
class LocalProcess:
    api_url: str
    aws_url: str
    process: subprocess.Popen[str]
    log: Path

    def stop(self, timeout: float = 20) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_local_platform(
    work_dir: Path, environment: dict[str, str] | None = None, timeout: float = 120
) -> LocalProcess:
    """Start the platform with its outbox, kept data and log under ``work_dir``; answers once it is ready."""
    work_dir.mkdir(parents=True, exist_ok=True)
    log_path = work_dir / "local-platform.log"
    env = {
        **os.environ,
        "PORT": "0",
        "AWS_PORT": "0",
        "OUTBOX_DIR": str(work_dir / "outbox"),
        "STATE_DIR": str(work_dir / "state"),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        **(environment or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    ready = threading.Event()
    found: dict[str, str] = {}

    def copy_output() -> None:
        # Everything the platform prints goes to its log; the ready line also says where it listens.
        assert process.stdout is not None
        with log_path.open("w") as log:
            for line in process.stdout:
                log.write(line)
                log.flush()
                match = READY.match(line.strip())
                if match:
                    found.update(api=match.group(1), aws=match.group(2))
                    ready.set()
        ready.set()

    threading.Thread(target=copy_output, name="local-platform-output", daemon=True).start()
    if not ready.wait(timeout) or "api" not in found:
        process.kill()
        raise RuntimeError(f"the local platform did not start:\n{log_path.read_text() if log_path.exists() else ''}")
    return LocalProcess(found["api"], found["aws"], process, log_path)
