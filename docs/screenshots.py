"""``make screenshots``: the operations console's main pages as PNGs in docs/, for the README.

Starts a local platform of its own (empty, on free ports), gives it a little history through the
REST API (a project, applications in several states, an escalation after skipped time, a batch),
then opens the pages in Debian's Chromium at 1280x800 (and one at a phone's width)."""

from __future__ import annotations

import json
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from infra.local.launcher import ROOT, start_local_platform

DOCS = ROOT / "docs"
CHROMIUM = "/usr/bin/chromium"
APPLICANT = ("alice", "applicants")
REVIEWER = ("rita", "reviewers")
APPROVER = ("paul", "approvers")
OPERATOR = ("olga", "operators")


class Caller:
    def __init__(self, base: str):
        self.base = base

    def __call__(self, method: str, path: str, body: Any = None, who: tuple[str, str] = OPERATOR) -> Any:
        request = urllib.request.Request(
            self.base + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json", "X-User-Id": who[0], "X-User-Groups": who[1]},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read() or b"null")

    def signal(self, workflow_id: str, name: str, who: tuple[str, str], payload: dict[str, Any] | None = None) -> Any:
        return self("POST", f"/workflows/{workflow_id}/signals/{name}", payload or {}, who)


def seed(api: Caller) -> dict[str, str]:
    """A small platform's worth of workflows; answers the ids the screenshots show."""
    api(
        "POST",
        "/workflows",
        {
            "type": "project",
            "workflowId": "riverina-soil",
            "input": {"name": "Riverina soil carbon", "methodologyId": "ERF-soil-carbon", "reportingPeriodMonths": 12},
        },
        APPLICANT,
    )
    api.signal("riverina-soil", "submitRegistration", APPLICANT)
    api.signal("riverina-soil", "assignAssessor", REVIEWER)
    api.signal("riverina-soil", "approveRegistration", APPROVER)
    api.signal(
        "riverina-soil",
        "submitOffsetsReport",
        APPLICANT,
        {"periodStart": "2025-07-01", "periodEnd": "2026-06-30", "unitsClaimed": 1000},
    )
    api.signal("riverina-soil", "acceptReport", APPROVER)

    def application(workflow_id: str, units: int) -> None:
        api(
            "POST",
            "/workflows",
            {
                "type": "accu-application",
                "workflowId": workflow_id,
                "input": {"projectId": "riverina-soil", "unitsRequested": units, "methodologyId": "ERF-soil-carbon"},
            },
            APPLICANT,
        )

    application("app-issued", 120)
    for name, who in [
        ("submitApplication", APPLICANT),
        ("assignReviewer", REVIEWER),
        ("validateMethodology", REVIEWER),
        ("approveApplication", APPROVER),
        ("issueCertificate", APPROVER),
    ]:
        api.signal("app-issued", name, who)
    application("app-overdue", 80)
    api.signal("app-overdue", "submitApplication", APPLICANT)
    for index in range(1, 6):
        application(f"app-draft-{index}", 10 * index)
    # Fourteen days and an hour later, no reviewer was assigned: the overdue one escalates.
    api("POST", "/local/clock/advance", {"seconds": 14 * 86400 + 3600})
    application("app-review", 60)
    api.signal("app-review", "submitApplication", APPLICANT)
    api.signal("app-review", "assignReviewer", REVIEWER)
    batch = api(
        "POST",
        "/batches",
        {
            "action": "terminate",
            "filter": {"type": "accu-application", "status": "DRAFT"},
            "reason": "drafts abandoned for over two weeks",
        },
    )
    return {"batch": batch["batchId"], "escalated": "app-overdue"}


def main() -> int:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM}: make browser", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as work:
        platform = start_local_platform(Path(work))
        try:
            ids = seed(Caller(platform.api_url))
            shots = {
                "console-workflows.png": ("#/workflows", 1280),
                "console-workflow.png": (f"#/workflows/{ids['escalated']}", 1280),
                "console-batch.png": (f"#/batches/{ids['batch']}", 1280),
                "console-operations.png": ("#/operations", 1280),
                "console-local.png": ("#/local", 1280),
                "console-phone.png": ("#/workflows/app-review", 390),
            }
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
                for name, (page_hash, width) in shots.items():
                    context = browser.new_context(
                        viewport={"width": width, "height": 800 if width > 600 else 844},
                        timezone_id="Australia/Sydney",
                        locale="en-AU",
                    )
                    page = context.new_page()
                    page.goto(f"{platform.api_url}/console/{page_hash}")
                    page.wait_for_selector("body[data-ready]")
                    page.wait_for_load_state("networkidle")
                    page.wait_for_timeout(1500)  # a batch page polls until its batch ends
                    page.screenshot(path=str(DOCS / name), full_page=width > 600)
                    context.close()
                    print(f"docs/{name}")
                browser.close()
        finally:
            platform.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
