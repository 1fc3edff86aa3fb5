"""One Lambda execution environment for the API function, shared by concurrent local requests.

Lambda runs one invocation at a time in an execution environment, so a handler's module-level
state is that invocation's alone, and Powertools relies on it: its REST resolver keeps the current
event and Lambda context on its class (``BaseRouter``) and the route being served in the
resolver's ``context``. Locally, the HTTP server serves many requests at once, on threads: run
side by side, one request would read another's event, identity included.

So invocations take turns in one environment. An invocation that pauses (the signal logic polls
while it waits for a workflow's next wait to open) gives up its turn for the pause: Powertools'
state is put aside and put back when it resumes, so others run meanwhile. This is the one seam
into Powertools (pinned to its version, covered by ``tests/integration/test_moto_seams.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import aws_lambda_powertools

PINNED_POWERTOOLS_VERSION = "3.37.0"


class LambdaEnvironment:
    def __init__(self) -> None:
        if aws_lambda_powertools.__version__ != PINNED_POWERTOOLS_VERSION:
            raise RuntimeError(
                f"the API's local environment is written for Powertools {PINNED_POWERTOOLS_VERSION}, not "
                f"{aws_lambda_powertools.__version__}: check infra/local/lambda_environment.py, then the pin"
            )
        self._turn = threading.Lock()
        self._mine = threading.local()

    def run(self, invocation: Callable[[], Any]) -> Any:
        """Run one invocation when it is its turn."""
        with self._turn:
            self._mine.holding = True
            try:
                return invocation()
            finally:
                self._mine.holding = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Around a pause of the invocation on this thread (if any): others may run meanwhile."""
        if not getattr(self._mine, "holding", False):
            yield
            return
        state = _save()
        self._mine.holding = False
        self._turn.release()
        try:
            yield
        finally:
            self._turn.acquire()
            self._mine.holding = True
            _restore(state)


def _save() -> tuple[Any, Any, dict[str, Any]]:
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    from functions.handlers import api

    return BaseRouter.current_event, BaseRouter.lambda_context, dict(api.app.context)


def _restore(state: tuple[Any, Any, dict[str, Any]]) -> None:
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    from functions.handlers import api

    BaseRouter.current_event, BaseRouter.lambda_context = state[0], state[1]
    api.app.context.clear()
    api.app.context.update(state[2])
