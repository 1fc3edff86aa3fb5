"""(e) Cold start: importing each function's handler module in a new interpreter, against importing
what it cannot do without (boto3, pydantic, and the Powertools modules that importing the handler
brings in), measured alternately, the median of several runs each."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from dataclasses import dataclass

from infra.catalog import FUNCTIONS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ENVIRONMENT = {
    **os.environ,
    "PYTHONPATH": ROOT,
    "AWS_DEFAULT_REGION": "ap-southeast-2",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def _run(code: str) -> str:
    answer = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_ENVIRONMENT, check=True)
    return answer.stdout.strip()


def _timed_import(statements: str) -> float:
    code = f"import time\nstarted = time.perf_counter()\n{statements}\nprint(time.perf_counter() - started)"
    return float(_run(code).splitlines()[-1])


def powertools_modules(module: str) -> list[str]:
    listing = _run(f"import sys, {module}\nprint('\\n'.join(sorted(sys.modules)))")
    return [name for name in listing.splitlines() if name.startswith("aws_lambda_powertools")]


@dataclass
class ColdStart:
    function: str
    module: str
    handler_seconds: float
    baseline_seconds: float

    @property
    def ratio(self) -> float:
        return self.handler_seconds / self.baseline_seconds


def measure(runs: int = 5) -> list[ColdStart]:
    results = []
    for spec in FUNCTIONS.values():
        module = spec.handler.rsplit(".", 1)[0]
        baseline = "import boto3\nimport pydantic\n" + "\n".join(
            f"import {name}" for name in powertools_modules(module)
        )
        handler_times, baseline_times = [], []
        for _ in range(runs):  # alternated, so that the machine's drift hits both alike
            handler_times.append(_timed_import(f"import {module}"))
            baseline_times.append(_timed_import(baseline))
        results.append(
            ColdStart(spec.name, module, statistics.median(handler_times), statistics.median(baseline_times))
        )
    return results
