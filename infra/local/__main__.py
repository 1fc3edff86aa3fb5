"""``python -m infra.local`` (what ``make local`` runs): the whole platform on this machine.

Environment: PORT (API, default 8000), AWS_PORT (the emulated AWS endpoint, default 4566),
OUTBOX_DIR (default .local/outbox), STATE_DIR (the data kept across restarts, default .local/state),
FRESH=1 (start empty: the kept data and the outbox are removed), ADMIN_EMAILS (comma-separated,
the alert subscribers).
A port of 0 takes any free port; the banner says which, and its last line, ``ready api=URL
aws=URL``, is there for programs that start the platform (the tests, ``make bench``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import sys
import threading
from pathlib import Path

from infra.local.persistence import StateDirectory
from infra.local.platform import DEFAULT_ADMIN_EMAILS, LocalPlatform
from infra.local.server import make_server, serve_in_background


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("botocore", "werkzeug", "moto", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    port = int(os.environ.get("PORT", "8000"))
    aws_port = int(os.environ.get("AWS_PORT", "4566"))
    outbox = Path(os.environ.get("OUTBOX_DIR", ".local/outbox")).resolve()
    state = Path(os.environ.get("STATE_DIR", ".local/state")).resolve()
    if os.environ.get("FRESH", "") not in ("", "0"):
        StateDirectory(state).forget()
        shutil.rmtree(outbox, ignore_errors=True)
    emails = tuple(
        e.strip() for e in os.environ.get("ADMIN_EMAILS", ",".join(DEFAULT_ADMIN_EMAILS)).split(",") if e.strip()
    )

    platform = LocalPlatform(
        outbox_dir=outbox,
        admin_emails=emails,
        log_level=os.environ.get("LOG_LEVEL", "WARNING"),
        aws_port=aws_port,
        schedules=True,
        state_dir=state,
    )
    # The API's port first: if it is taken, stop before anything is restored or started.
    api = make_server(platform, "127.0.0.1", port)
    platform.start()
    platform.deliver_events_in_background()
    serve_in_background(api)
    port = api.server_address[1]
    aws_port = platform.aws_port or aws_port

    print(
        f"""
ACCU workflow platform, local
  REST API         http://127.0.0.1:{port}   (identity: X-User-Id and X-User-Groups headers)
  OpenAPI          http://127.0.0.1:{port}/openapi.json
  console          http://127.0.0.1:{port}/console   (operations console, in a browser)
  emulated AWS     http://127.0.0.1:{aws_port}   (aws --endpoint-url http://127.0.0.1:{aws_port} ...)
  e-mail outbox    {outbox}
  kept data        {state}   (across restarts; make local FRESH=1 starts empty)
  virtual clock    GET /local/clock, POST /local/clock/advance {{"seconds": N}}
  faults           POST /local/faults {{"activity"?, "workflowType"?, "count"?: N, "rate"?: 0.3,
                   "kind": "transient"|"permanent"|"delay"}}
  schedules        GET /local/schedules, POST /local/schedules/NAME (make schedule NAME=HealthCheck)
  events           GET /local/events
Ctrl-C stops it.
ready api=http://127.0.0.1:{port} aws=http://127.0.0.1:{aws_port}""",
        flush=True,
    )

    stop = threading.Event()
    # Ctrl-C and SIGTERM stop it the same way (the data is saved); SIGINT also when the shell that
    # started the platform in the background made it ignore SIGINT.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    print("stopping", flush=True)
    api.shutdown()
    platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
