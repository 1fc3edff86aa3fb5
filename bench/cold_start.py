"""(e) Cold start: importing each function's handler module in a new interpreter, against importing
what it cannot do without: every library module that importing the handler brings in (boto3,
pydantic, the Powertools modules it uses, and what those load themselves, such as the X-Ray SDK
that Powertools' Tracer loads even when tracing is off). The ratio is thus what the project's own
modules add to a cold start. Measured alternately, the fastest of several
runs each (as ``timeit`` advises: on a shared machine, noise only ever adds).

Both sides import from compiled bytecode, as the installed libraries do: one unmeasured import
first writes the bytecode of every module into a cache of this run's own (``PYTHONPYCACHEPREFIX``),
so that the ratio compares the work of importing, not compiling the project's sources (which a
checkout that never wrote bytecode would otherwise pay on every import)."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from infra.catalog import FUNCTIONS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BYTECODE = tempfile.mkdtemp(prefix="bench-bytecode-")
atexit.register(shutil.rmtree, _BYTECODE, ignore_errors=True)
_ENVIRONMENT = {
    **{name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPATH": ROOT,
    "AWS_DEFAULT_REGION": "ap-southeast-2",
    "PYTHONPYCACHEPREFIX": _BYTECODE,
}


def _run(code: str) -> str:
    answer = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_ENVIRONMENT, check=True)
    return answer.stdout.strip()


def _timed_import(statements: str) -> float:
    code = f"import time\nstarted = time.perf_counter()\n{statements}\nprint(time.perf_counter() - started)"
    return float(_run(code).splitlines()[-1])


_LIBRARY_MODULES = """
import sys, sysconfig, {module}
libraries = (sysconfig.get_path("purelib"), sysconfig.get_path("platlib"))
for name, loaded in sorted(sys.modules.items()):
    if (getattr(loaded, "__file__", None) or "").startswith(libraries):
        print(name)
"""


def library_modules(module: str) -> list[str]:
    """The installed libraries' modules that importing ``module`` loads (this also writes the bytecode)."""
    return _run(_LIBRARY_MODULES.format(module=module)).splitlines()


@dataclass
class ColdStart:
    function: str
    module: str
    handler_seconds: float
    baseline_seconds: float

    @property
    def ratio(self) -> float:
        return self.handler_seconds / self.baseline_seconds


def measure(runs: int = 5, api_runs: int = 9) -> list[ColdStart]:
    """The API handler, whose ratio has a target, gets more runs than the activities."""
    results = []
    for spec in FUNCTIONS.values():
        module = spec.handler.rsplit(".", 1)[0]
        baseline = "\n".join(f"import {name}" for name in library_modules(module))
        handler_times, baseline_times = [], []
        # alternated, so that the machine's drift hits both alike
        for _ in range(api_runs if spec.name == "Api" else runs):
            handler_times.append(_timed_import(f"import {module}"))
            baseline_times.append(_timed_import(baseline))
        results.append(ColdStart(spec.name, module, min(handler_times), min(baseline_times)))
    return results
