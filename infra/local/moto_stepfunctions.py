"""Where the local runtime reaches into moto's Step Functions engine, and why (DESIGN §8). Pinned
to one moto version (``moto_patches.PINNED_MOTO_VERSION``): each seam names a module attribute or
method of the engine; ``tests/integration/test_moto_seams.py`` proves each one still works.

1. **Time and threads.** The engine waits in a handful of places; each is given the virtual
   clock: task and callback timeouts, heartbeats (``threading.Event`` waits), Wait states (an
   Event wait, ``time.time`` and, for timestamps, ``datetime.now``), retry back-off
   (``time.sleep``). Its threads become ``EngineThread`` greenlets on the clock's one engine
   thread, so a waiting execution holds no OS thread. moto also keeps every thread it ever made
   in ``TMP_THREADS``, for nothing: the list is emptied as threads start.
2. **Stopping.** moto's StopExecution fails for an execution started a moment before (AWS accepts
   it): the execution's environment is now built when it starts, not on its thread. moto marks
   the execution stopped but leaves a waiting task waiting (until its timeout, days later), where
   AWS ends it at once: stopping ends the execution's waits, and the error those ended waits raise
   no longer turns the stopped (ABORTED) execution FAILED.
3. **One parse per definition.** moto parses the ASL definition (an ANTLR parser in Python, about
   0.1 s and 0.5 MB) for every execution. The parsed program keeps no execution's state (that is
   in each execution's environment), so executions of a definition share one parse; a definition
   with Map or Parallel states, whose components do keep state, is parsed per execution as before.
4. **Lookups by key.** moto finds an execution by ARN, by name (StartExecution's idempotency) and
   by task token (SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat) by walking every execution
   ever started; each lookup is now a dictionary read. A token whose execution has ended answers
   ``InvalidToken`` as in AWS; a token completed before answers ``TaskTimedOut`` ("the task
   associated with the token has already been closed"), where moto answered success.
5. **Parse a path once, make a client once.** moto parses every JSONPath each time a state reads
   one (``jsonpath_ng`` builds its parser anew for each, about 1 ms), and makes a new boto3 client
   for every task it runs (several ms). Parsed paths are kept (they are read-only); clients are
   kept per boto3 session, region and service (botocore clients are thread-safe), and made
   anew when the local runtime sets up a new session.
6. **A year at most.** A Standard execution lasts at most a year in AWS ("it will fail with a
   States.Timeout error and emit a ExecutionsTimedOut CloudWatch metric", Step Functions quotas);
   moto lets it run on for ever. Each execution whose definition sets no shorter ``TimeoutSeconds``
   now times out (TIMED_OUT) a year after it started, on the virtual clock, and its waits end, so
   that only the platform's continue-as-new keeps a long-lived workflow going, as in AWS.
7. **Versions and aliases.** moto publishes versions and keeps aliases, but StartExecution fails
   on an alias ARN (no such state machine) and on a version ARN (a version has no name check), and
   an execution started on a version would be filed under the version alone.
   In AWS an alias routes each start to one of its versions by weight, and the execution belongs to
   the state machine whatever it was started through. Now a start on an alias picks a version by
   the alias's weights; an execution started on a version runs that version's definition (later
   definitions do not touch it) and is filed under the state machine, named uniquely there, with
   the version and alias it was started through.
"""

from __future__ import annotations

import datetime as _datetime
import functools
import importlib
import json
import random
import threading
import time as _time
import types
from typing import Any

from infra.local import clock as virtual

ENGINE = "moto.stepfunctions.parser"

_installed = False


class _VirtualDatetime(_datetime.datetime):
    @classmethod
    def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
        current = virtual.current()
        return current.now().astimezone(tz) if tz else current.naive_local_now()


def _module_like(original: types.ModuleType, **overrides: Any) -> types.SimpleNamespace:
    """A stand-in for a module inside one moto module: the overrides, else the original's attributes."""

    class Namespace(types.SimpleNamespace):
        def __getattr__(self, name: str) -> Any:
            return getattr(original, name)

    return Namespace(**overrides)


TIME_SEAMS: dict[str, dict[str, Any]] = {
    # module → attribute → replacement
    f"{ENGINE}.asl.component.state.exec.execute_state": {
        "threading": _module_like(threading, Event=virtual.ClockEvent),
        "Thread": virtual.EngineThread,
    },
    f"{ENGINE}.asl.eval.callback.callback": {"Event": virtual.ClockEvent},
    f"{ENGINE}.asl.eval.environment": {"threading": _module_like(threading, Event=virtual.ClockEvent)},
    f"{ENGINE}.asl.component.program.program": {"threading": _module_like(threading, Thread=virtual.EngineThread)},
    f"{ENGINE}.backend.execution_worker": {"Thread": virtual.EngineThread},
    f"{ENGINE}.asl.component.common.retry.retrier_decl": {
        "time": _module_like(_time, sleep=lambda seconds: virtual.current().sleep(seconds)),
    },
    f"{ENGINE}.asl.component.state.wait.wait_function.wait_function": {
        "time": _module_like(_time, time=lambda: virtual.current().time()),
    },
    f"{ENGINE}.asl.component.state.wait.wait_function.timestamp": {
        "datetime": _module_like(_datetime, datetime=_VirtualDatetime),
    },
}

# State types whose parsed components keep per-execution state (iterations, branches).
_STATEFUL_STATE_TYPES = frozenset({"Map", "Parallel"})


def _shareable(definition: str) -> bool:
    def states_of(machine: Any) -> Any:
        for state in (machine.get("States") or {}).values():
            yield state
            for nested in ("Iterator", "ItemProcessor"):
                if isinstance(state.get(nested), dict):
                    yield from states_of(state[nested])
            for branch in state.get("Branches") or []:
                yield from states_of(branch)

    try:
        machine = json.loads(definition)
    except ValueError:
        return False
    return not any(state.get("Type") in _STATEFUL_STATE_TYPES for state in states_of(machine))


_programs: dict[str, Any] = {}
_programs_lock = threading.Lock()


def _parsed(definition: str) -> Any:
    """The one parse of a definition (the lock makes it one even when two threads ask at once)."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    with _programs_lock:
        program = _programs.get(definition)
        if program is None:
            program = _programs[definition] = AmazonStateLanguageParser.parse(definition)[0]
        return program


class ExecutionIndex:
    """Executions of one Step Functions backend by ARN, and the callback pools by task token."""

    def __init__(self) -> None:
        self.by_arn: dict[str, Any] = {}
        self.by_name: dict[tuple[str, str], Any] = {}

    @classmethod
    def of(cls, backend: Any) -> ExecutionIndex:
        index = getattr(backend, "_accu_executions", None)
        if index is None:
            index = backend._accu_executions = cls()
        return index


# Task token -> (callback pool, the execution it belongs to); tokens are unique UUIDs.
_pools_by_token: dict[str, tuple[Any, Any]] = {}
_pools_lock = threading.Lock()


def forget_executions() -> None:
    """moto's backends were reset: no token leads to an execution any more."""
    with _pools_lock:
        _pools_by_token.clear()


def install() -> None:
    """Apply the seams (once per process)."""
    global _installed
    if _installed:
        return
    for module_name, replacements in TIME_SEAMS.items():
        module = importlib.import_module(module_name)
        for attribute, replacement in replacements.items():
            if not hasattr(module, attribute):
                raise RuntimeError(f"{module_name} has no {attribute}: moto moved a seam")
            setattr(module, attribute, replacement)
    _install_thread_list()
    _install_stopping()
    _install_parse_once()
    _install_lookups()
    _install_paths_and_clients()
    _install_execution_lifetime()
    _installed = True


def _install_thread_list() -> None:
    from moto.stepfunctions.parser import utils

    threads = utils.TMP_THREADS
    original_start = virtual.EngineThread.start

    def start_and_forget(self: virtual.EngineThread) -> None:
        threads.clear()  # moto appends each thread before starting it, and never reads the list
        original_start(self)

    virtual.EngineThread.start = start_and_forget  # type: ignore[method-assign,assignment]


def _install_stopping() -> None:
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    build_environment = ExecutionWorker._get_evaluation_environment
    original_start = ExecutionWorker.start
    original_stop = ExecutionWorker.stop

    def start_with_environment(self: Any) -> None:
        self.env = build_environment(self)
        original_start(self)

    def prepared_environment(self: Any) -> Any:
        return self.env if self.env is not None else build_environment(self)

    def stop_and_end_waits(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original_stop(self, *args, **kwargs)
        virtual.current().expire_all(owner=self)
        return result

    ExecutionWorker.start = start_with_environment  # type: ignore[method-assign,assignment]
    ExecutionWorker._get_evaluation_environment = prepared_environment  # type: ignore[method-assign,assignment]
    ExecutionWorker.stop = stop_and_end_waits  # type: ignore[method-assign,assignment]

    original_set_error = Environment.set_error

    def set_error_unless_stopped(self: Any, error: Any) -> None:
        if isinstance(self._program_state, ProgramStopped):
            return
        original_set_error(self, error)

    Environment.set_error = set_error_unless_stopped  # type: ignore[method-assign,assignment]


def _install_parse_once() -> None:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    parse = ExecutionWorker._get_evaluation_entrypoint

    def parsed_once(self: Any) -> Any:
        definition = self._evaluation_details.state_machine_details.definition
        return _parsed(definition) if _shareable(definition) else parse(self)

    ExecutionWorker._get_evaluation_entrypoint = parsed_once  # type: ignore[method-assign,assignment]


def _install_lookups() -> None:
    from moto.core.exceptions import AWSError
    from moto.core.utils import utcnow
    from moto.stepfunctions.exceptions import ExecutionDoesNotExist
    from moto.stepfunctions.models import StateMachine, StateMachineVersion, StepFunctionBackend
    from moto.stepfunctions.parser.api import InvalidToken
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        CallbackConsumerTimeout,
        CallbackNotifyConsumerError,
        CallbackOutcomeFailure,
        CallbackOutcomeSuccess,
        CallbackPoolManager,
    )
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    # The engine's own TaskTimedOut and TaskDoesNotExist reach the client with an empty error code
    # (they set ``code``, which moto's responses do not read): these carry it as AWS does.
    class TaskTimedOut(AWSError):
        TYPE = "TaskTimedOut"
        STATUS = 400

    class TaskDoesNotExist(AWSError):
        TYPE = "TaskDoesNotExist"
        STATUS = 400

    # Each execution's callback pool knows its execution, so a token leads to both.
    build_environment = ExecutionWorker._get_evaluation_environment

    def environment_of_execution(self: Any) -> Any:
        env = build_environment(self)
        env.callback_pool_manager._accu_execution = self._execution_communication.execution  # type: ignore[attr-defined]
        return env

    ExecutionWorker._get_evaluation_environment = environment_of_execution  # type: ignore[method-assign,assignment]

    original_add = CallbackPoolManager.add

    def add(self: Any, callback_id: str) -> Any:
        endpoint = original_add(self, callback_id)
        with _pools_lock:
            _pools_by_token[callback_id] = (self, getattr(self, "_accu_execution", None))
        return endpoint

    CallbackPoolManager.add = add  # type: ignore[method-assign,assignment]

    reflect = BaseExecutionWorkerCommunication._reflect_execution_status

    def reflect_and_forget_tokens(self: Any) -> None:
        reflect(self)
        pool = self.execution.exec_worker.env.callback_pool_manager
        with _pools_lock:
            for token in list(pool._pool):
                _pools_by_token.pop(token, None)

    BaseExecutionWorkerCommunication._reflect_execution_status = reflect_and_forget_tokens  # type: ignore[method-assign,assignment]

    def pool_of(token: str, running_only: bool) -> Any:
        with _pools_lock:
            pool, execution = _pools_by_token.get(token, (None, None))
        if pool is None or (running_only and (execution is None or execution.status != "RUNNING")):
            raise InvalidToken()
        return pool

    def notify(pool: Any, token: str, outcome: Any) -> None:
        endpoint = pool._pool.get(token)
        if endpoint is not None and endpoint._outcome is not None:
            # Completed before: AWS answers TaskTimedOut (the task "has already been closed"); moto
            # would answer success and keep the second outcome.
            raise TaskTimedOut("Task Timed Out: the task associated with the token has already been closed")
        try:
            if pool.notify(callback_id=token, outcome=outcome):
                return
        except CallbackNotifyConsumerError as consumer_error:
            if isinstance(consumer_error, CallbackConsumerTimeout):
                raise TaskTimedOut("Task Timed Out") from consumer_error
            raise TaskDoesNotExist("Task Does Not Exist") from consumer_error
        raise InvalidToken()

    def send_task_success(self: Any, task_token: str, outcome: str) -> None:
        notify(pool_of(task_token, True), task_token, CallbackOutcomeSuccess(callback_id=task_token, output=outcome))

    def send_task_failure(self: Any, task_token: str, error: Any = None, cause: Any = None) -> Any:
        from moto.stepfunctions.parser.api import SendTaskFailureOutput

        failure = CallbackOutcomeFailure(callback_id=task_token, error=error, cause=cause)
        notify(pool_of(task_token, False), task_token, failure)
        return SendTaskFailureOutput()

    def send_task_heartbeat(self: Any, task_token: str) -> None:
        pool = pool_of(task_token, True)
        try:
            if pool.heartbeat(callback_id=task_token):
                return
        except CallbackNotifyConsumerError as consumer_error:
            if isinstance(consumer_error, CallbackConsumerTimeout):
                raise TaskTimedOut("Task Timed Out") from consumer_error
            raise TaskDoesNotExist("Task Does Not Exist") from consumer_error
        raise InvalidToken()

    StepFunctionsParserBackend.send_task_success = send_task_success  # type: ignore[method-assign,assignment]
    StepFunctionsParserBackend.send_task_failure = send_task_failure  # type: ignore[method-assign,assignment]
    StepFunctionsParserBackend.send_task_heartbeat = send_task_heartbeat  # type: ignore[method-assign,assignment]

    original_start_execution = StepFunctionsParserBackend.start_execution

    def start_execution(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any) -> Any:
        version_arn, alias_arn = _qualifier_of(self, state_machine_arn)
        if version_arn is not None:
            # moto's versions do not know their backend, which a start reads.
            version = self.describe_state_machine(version_arn)
            version.backend = self
        execution = original_start_execution(self, version_arn or state_machine_arn, name, *args, **kwargs)
        if version_arn is not None:
            # Filed under the state machine, as AWS files it, with what it was started through.
            if execution in version.executions:
                version.executions.remove(execution)
                self.describe_state_machine(unqualified(version_arn)).executions.append(execution)
            execution.accu_version_arn, execution.accu_alias_arn = version_arn, alias_arn  # type: ignore[attr-defined]
        index = ExecutionIndex.of(self)
        index.by_arn[execution.execution_arn] = execution
        index.by_name[(unqualified(execution.state_machine_arn), execution.name)] = execution
        return execution

    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign,assignment]

    def handle_name_input_idempotency(self: Any, name: str, execution_input: str) -> Any:
        from moto.stepfunctions.exceptions import ExecutionAlreadyExists

        execution = ExecutionIndex.of(self.backend).by_name.get((unqualified(self.arn), name))
        if execution is None:
            return None
        if execution_input == execution.execution_input and execution.status == "RUNNING":
            return execution
        raise ExecutionAlreadyExists("Execution Already Exists: '" + execution.execution_arn + "'")

    StateMachine._handle_name_input_idempotency = handle_name_input_idempotency  # type: ignore[method-assign,assignment]
    # moto's versions have no name check at all (a start on one fails): theirs is the state machine's.
    StateMachineVersion._handle_name_input_idempotency = handle_name_input_idempotency  # type: ignore[attr-defined]

    original_describe = StepFunctionBackend.describe_execution

    def describe_execution(self: Any, execution_arn: str) -> Any:
        execution = ExecutionIndex.of(self).by_arn.get(execution_arn)
        return execution if execution is not None else original_describe(self, execution_arn)

    def stop_execution(self: Any, execution_arn: str) -> Any:
        execution = ExecutionIndex.of(self).by_arn.get(execution_arn)
        if execution is None:
            self._validate_execution_arn(execution_arn)
            raise ExecutionDoesNotExist("Execution Does Not Exist: '" + execution_arn + "'")
        execution.stop(stop_date=utcnow(), error="", cause="")
        return execution

    StepFunctionBackend.describe_execution = describe_execution  # type: ignore[method-assign,assignment]
    StepFunctionBackend.stop_execution = stop_execution  # type: ignore[method-assign,assignment]

    from moto.stepfunctions.responses import StepFunctionResponse

    describe_response = StepFunctionResponse.describe_execution

    def describe_execution_with_qualifiers(self: Any) -> Any:
        # As AWS answers: the state machine's ARN, and the version and alias the execution started through.
        answer = describe_response(self)
        result: dict[str, Any] = answer.result  # type: ignore[assignment]
        execution: Any = ExecutionIndex.of(self.stepfunction_backend).by_arn.get(result["executionArn"])
        version_arn = getattr(execution, "accu_version_arn", None)
        if version_arn:
            result.update(stateMachineArn=unqualified(version_arn), stateMachineVersionArn=version_arn)
            if execution.accu_alias_arn:
                result["stateMachineAliasArn"] = execution.accu_alias_arn
        return answer

    StepFunctionResponse.describe_execution = describe_execution_with_qualifiers  # type: ignore[method-assign]


def unqualified(state_machine_arn: str) -> str:
    """A state machine's ARN without its version or alias (``arn:aws:states:r:a:stateMachine:name``)."""
    return ":".join(state_machine_arn.split(":")[:7])


def _qualifier_of(backend: Any, state_machine_arn: str) -> tuple[str | None, str | None]:
    """(the version an execution starts on, the alias it was started through) for a qualified ARN;
    (None, None) for the state machine itself. An alias picks one of its versions by weight."""
    parts = state_machine_arn.split(":")
    if len(parts) <= 7:
        return None, None
    if parts[7].isdigit():
        return state_machine_arn, None
    alias = backend.describe_state_machine_alias(state_machine_arn)
    routes = alias.routing_configuration
    (route,) = random.choices(routes, weights=[int(route["weight"]) for route in routes])
    return str(route["stateMachineVersionArn"]), state_machine_arn


# Modules of the engine that make a boto3 client for each task they run.
CLIENT_MAKERS = (
    f"{ENGINE}.asl.component.state.exec.state_task.lambda_eval_utils",
    f"{ENGINE}.asl.component.state.exec.state_task.service.state_task_service_sns",
    f"{ENGINE}.asl.component.state.exec.state_task.service.state_task_service_sqs",
    f"{ENGINE}.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    f"{ENGINE}.asl.component.state.exec.state_task.service.state_task_service_events",
    f"{ENGINE}.asl.component.state.exec.state_task.service.state_task_service_sfn",
    f"{ENGINE}.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
)
# Modules of the engine that parse a JSONPath each time they read one.
PATH_PARSERS = (
    f"{ENGINE}.asl.utils.json_path",
    f"{ENGINE}.asl.component.common.path.result_path",
)


def _install_paths_and_clients() -> None:
    import boto3
    from moto.stepfunctions.parser.asl.utils import boto_client

    make_client = boto_client.boto_client_for
    clients: dict[tuple[str, str], tuple[Any, Any]] = {}
    clients_lock = threading.Lock()

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto makes every client with the same fixed keys, whatever the state's credentials.
        session = boto3.DEFAULT_SESSION
        with clients_lock:
            kept = clients.get((region, service))
            if kept is None or kept[0] is not session:
                kept = clients[(region, service)] = (session, make_client(region, service, state_credentials))
            return kept[1]

    for module_name in CLIENT_MAKERS:
        module = importlib.import_module(module_name)
        if getattr(module, "boto_client_for", None) is not make_client:
            raise RuntimeError(f"{module_name} has no boto_client_for: moto moved a seam")
        module.boto_client_for = client_for  # type: ignore[attr-defined]

    for module_name in PATH_PARSERS:
        module = importlib.import_module(module_name)
        parse = getattr(module, "parse", None)
        if parse is None:
            raise RuntimeError(f"{module_name} has no parse: moto moved a seam")
        module.parse = functools.lru_cache(maxsize=4096)(parse)  # type: ignore[attr-defined]


def _install_execution_lifetime() -> None:
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.component.program.program import Program

    from functions.domain.executions import EXECUTION_LIFETIME_SECONDS

    def eval_for_a_year_at_most(self: Any, env: Any) -> None:
        # moto's Program.eval, with AWS's limit where the definition sets none (or a longer one).
        declared = self.timeout_seconds.timeout_seconds if self.timeout_seconds else None
        limit = EXECUTION_LIFETIME_SECONDS if declared is None else min(declared, EXECUTION_LIFETIME_SECONDS)
        env.next_state_name = self.start_at.start_at_name
        worker = virtual.EngineThread(target=EvalComponent.eval, args=(self, env), daemon=True)
        worker.start()
        clock = virtual.current()
        deadline = clock.time() + limit
        while True:
            worker.join(timeout=max(0.0, deadline - clock.time()))
            # Ended, or stopped (stopping ends the execution's waits, this one included): not a timeout.
            if not worker.is_alive() or not env.is_running():
                return
            if clock.time() >= deadline:
                break
        env.set_timed_out()
        clock.expire_all(owner=worker.owner)  # its waits end with it

    Program.eval = eval_for_a_year_at_most  # type: ignore[method-assign]
