"""The operations console in a real browser (Debian's Chromium driven by Playwright) against the
local platform, as an operator uses it: find workflows by filters, open one, send a signal, see a
409 explained, terminate with a reason, follow a batch, skip time and see an escalation; the
identity picker, keyboard use, a phone's width and no layout shift.

The browser runs in Sydney's time zone: times show in the reader's zone, UTC on hover."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import LocalHttp

pytestmark = pytest.mark.e2e

ZONE = "Australia/Sydney"
APPLICANT = {"user": "alice", "groups": "applicants"}
OPERATOR = {"user": "olga", "groups": "operators"}
TIMEOUT_MS = 20_000


@pytest.fixture
def console(browser, local: LocalHttp) -> Iterator[Any]:
    """A page of the console in a fresh browser context (its own storage: the default identity)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id=ZONE, locale="en-AU")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield page
    context.close()
    # A refused request (4xx) logs a console error in Chromium; a script error would be a bug.
    assert not [error for error in errors if "Failed to load resource" not in error], errors


def open_page(page: Any, local: LocalHttp, hash_path: str) -> None:
    page.goto(f"{local.base}/console{hash_path}")
    page.wait_for_selector("body[data-ready]")


def platform_now(local: LocalHttp) -> datetime:
    status, clock = local("GET", "/local/clock")
    assert status == 200
    return datetime.fromisoformat(clock["now"].replace("Z", "+00:00"))


def sydney_input(instant: datetime) -> str:
    """What a datetime-local input holds for this instant in the browser's zone (to the second)."""
    return instant.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M:%S")


PROJECT = "console-project"


def the_project(local: LocalHttp) -> str:
    """The applicant's project the console's applications are for (started once)."""
    if local("GET", f"/workflows/{PROJECT}", **APPLICANT)[0] == 404:
        code, state = local(
            "POST",
            "/workflows",
            {
                "type": "project",
                "workflowId": PROJECT,
                "input": {"name": "Console soil carbon", "methodologyId": "ERF-soil", "reportingPeriodMonths": 12},
            },
            **APPLICANT,
        )
        assert code == 201, state
    return PROJECT


def act_as_applicant(page: Any, local: LocalHttp) -> None:
    """Through the identity picker: alice, in the applicants group only."""
    open_page(page, local, "/#/workflows")
    page.click(".identity-menu summary")
    page.fill("input[name=userId]", "alice")
    page.uncheck("input[name=group-operators]")
    page.check("input[name=group-applicants]")
    page.click("button:text-is('Act as')")
    page.wait_for_selector("text=Acting as alice")


def new_application(local: LocalHttp, prefix: str, status: str = "DRAFT") -> str:
    workflow_id = f"{prefix}-{uuid.uuid4().hex[:8]}"
    project = the_project(local)
    code, state = local(
        "POST",
        "/workflows",
        {
            "type": "accu-application",
            "workflowId": workflow_id,
            "input": {"projectId": project, "unitsRequested": 50, "methodologyId": "ERF-soil"},
        },
        **APPLICANT,
    )
    assert code == 201, state
    if status == "SUBMITTED":
        code, state = local("POST", f"/workflows/{workflow_id}/signals/submitApplication", {}, **APPLICANT)
        assert code == 200 and state["status"] == "SUBMITTED", state
    return workflow_id


def state_of(local: LocalHttp, workflow_id: str) -> dict[str, Any]:
    code, state = local("GET", f"/workflows/{workflow_id}", **OPERATOR)
    assert code == 200, state
    return state


def test_workflows_are_found_by_filters_kept_in_the_url_and_opened(console, local):
    # Given two applications of this test, one submitted, among everything else on the platform
    since = platform_now(local)
    draft = new_application(local, "console-list")
    submitted = new_application(local, "console-list", status="SUBMITTED")

    # When the operator filters the list by type, status and start time
    open_page(console, local, "/#/workflows")
    console.select_option("#filter-type", "accu-application")
    console.select_option("#filter-status", "SUBMITTED")
    console.fill("#filter-after", sydney_input(since))
    console.click("text=Filter")

    # Then only the submitted one is listed, and the filters are in the page's URL
    console.wait_for_selector(f"table.workflows a:text-is('{submitted}')")
    listed = console.locator("table.workflows tbody tr td:first-child").all_inner_texts()
    assert listed == [submitted] and draft not in listed
    assert re.search(r"#/workflows\?type=accu-application&status=SUBMITTED&startedAfter=", console.url)
    # And the counts by status link to their own filtered lists
    assert console.locator(".chips a.chip", has_text="SUBMITTED").count() == 1

    # When the URL is opened anew (a shared link), the same filters apply
    console.goto(console.url)
    console.wait_for_selector(f"table.workflows a:text-is('{submitted}')")
    assert console.locator("#filter-status").input_value() == "SUBMITTED"

    # When the operator opens the workflow from the list
    console.click(f"table.workflows a:text-is('{submitted}')")

    # Then its page has its own URL, its state, the diagram with its status now, and its history
    console.wait_for_selector("svg.diagram .node.current")
    assert console.url.endswith(f"#/workflows/{submitted}")
    assert console.locator("svg.diagram .node.current text").text_content() == "SUBMITTED"
    assert console.locator("svg.diagram .edge.taken").count() == 1  # DRAFT → SUBMITTED
    assert console.locator("ol.timeline li").count() == 2
    assert "submitApplication" in console.locator("ol.timeline li").nth(1).inner_text()
    # And times are in the reader's zone, UTC on hover
    started = console.locator("dl.facts time").first
    assert started.get_attribute("title").endswith("Z (UTC)")

    # And the workflow's address as the console names it, /console#/workflows/{id}, opens the same page
    console.goto(f"{local.base}/console#/workflows/{submitted}")
    console.wait_for_selector(f"h1:text-is('{submitted}')")
    assert console.url == f"{local.base}/console/#/workflows/{submitted}"


def test_a_signal_is_sent_from_its_form_and_a_stale_one_is_refused_with_what_is_awaited(console, local):
    # Given a draft application open in the console
    workflow_id = new_application(local, "console-signal")
    open_page(console, local, f"/#/workflows/{workflow_id}")
    console.wait_for_selector("text=Send submitApplication")

    # When someone else submits it meanwhile, and the operator then sends submitApplication from the page
    code, _ = local("POST", f"/workflows/{workflow_id}/signals/submitApplication", {}, **APPLICANT)
    assert code == 200
    console.click("text=Send submitApplication")

    # Then the page shows the API's refusal in place: 409, its code, and what the workflow awaits now
    error = console.locator("#signal-submitApplication .error")
    error.wait_for()
    text = error.inner_text()
    assert "409" in text and "SIGNAL_NOT_ALLOWED" in text
    assert "awaits now" in text and "assignReviewer" in text

    # When the page is read again and the awaited assignReviewer is sent
    console.reload()
    console.click("text=Send assignReviewer")

    # Then the signal is applied: the page says so and shows the new status
    console.wait_for_selector("text=assignReviewer applied: SUBMITTED → UNDER_REVIEW")
    assert console.locator("svg.diagram .node.current text").text_content() == "UNDER_REVIEW"
    assert state_of(local, workflow_id)["status"] == "UNDER_REVIEW"


def test_a_payload_form_is_built_from_the_schema_and_a_422_names_the_field(console, local):
    # Given a draft application
    workflow_id = new_application(local, "console-payload")
    open_page(console, local, f"/#/workflows/{workflow_id}")

    # When the operator sends updateMetadata with a metadata value that is not JSON
    form = console.locator("#signal-updateMetadata")
    form.wait_for()
    field = form.locator("textarea[name='metadata']")
    field.fill("not json")
    form.locator("button[type=submit]").click()

    # Then the field is marked and nothing was sent
    assert form.locator(".field-error").first.inner_text() == "not JSON"
    assert field.get_attribute("aria-invalid") == "true"
    assert state_of(local, workflow_id)["historyLength"] == 1

    # When a valid JSON value that the API refuses (not an object) is sent
    field.fill("3")
    form.locator("button[type=submit]").click()

    # Then the API's 422 is shown in place, naming the field
    error = form.locator(".error")
    error.wait_for()
    assert "422" in error.inner_text() and "metadata" in error.inner_text()


def test_an_operator_terminates_with_a_mandatory_reason(console, local):
    # Given a running application
    workflow_id = new_application(local, "console-terminate")
    open_page(console, local, f"/#/workflows/{workflow_id}")

    # When the operator opens Terminate and presses it without a reason
    console.click("summary:text-is('Terminate')")
    console.click("button:text-is('Terminate')")

    # Then the browser asks for the reason and nothing happens
    assert console.locator("#terminate-reason").evaluate("element => element.validity.valueMissing")
    assert state_of(local, workflow_id)["executionStatus"] == "RUNNING"

    # When a reason is given
    console.fill("#terminate-reason", "duplicate application, see ticket 42")
    console.click("button:text-is('Terminate')")

    # Then the workflow is terminated, and its history says who and why
    console.wait_for_selector("text=Terminate: done")
    state = state_of(local, workflow_id)
    assert state["executionStatus"] == "TERMINATED"
    _, history = local("GET", f"/workflows/{workflow_id}/history", **OPERATOR)
    last = history["items"][-1]
    assert last["type"] == "TERMINATED" and "ticket 42" in str(last["details"])
    console.wait_for_selector("ol.timeline li.event-terminated")


def test_a_batch_is_counted_by_a_dry_run_then_run_and_followed_to_its_end(console, local):
    # Given three draft applications of this test
    since = platform_now(local)
    drafts = {new_application(local, "console-batch") for _ in range(3)}

    # When the operator prepares a batch terminating the drafts started since then, and runs it dry
    open_page(console, local, "/#/batches")
    console.select_option("#batch-action", "terminate")
    console.select_option("#batch-type", "accu-application")
    console.select_option("#batch-status", "DRAFT")
    console.fill("#batch-after", sydney_input(since))
    console.fill("#batch-reason", "drafts abandoned before the deadline")
    run = console.locator("button", has_text="Run the batch")
    assert run.is_disabled()  # no batch before its dry run
    console.click("button:text-is('Dry run')")

    # Then the dry run counts them, changing nothing
    console.wait_for_selector("text=3 workflows match")
    assert all(state_of(local, workflow_id)["executionStatus"] == "RUNNING" for workflow_id in drafts)

    # When the operator runs the batch as counted
    console.click("button:text-is('Run the batch on 3 workflows')")

    # Then its page follows it to its end, with exact counts
    console.wait_for_url(re.compile(r"#/batches/[^/]+$"))
    console.wait_for_selector(".badge-completed", timeout=60_000)
    counts = console.locator("dl.facts").first.inner_text()
    assert re.search(r"Matched\s+3", counts) and re.search(r"Applied\s+3", counts)
    assert all(state_of(local, workflow_id)["executionStatus"] == "TERMINATED" for workflow_id in drafts)


def test_skipping_time_on_the_local_page_shows_a_timeouts_escalation(console, local):
    # Given a submitted application (its review deadline is 14 days away)
    workflow_id = new_application(local, "console-clock", status="SUBMITTED")
    assert state_of(local, workflow_id)["escalationLevel"] == 0

    # When the operator advances the local clock by 14 days and an hour
    open_page(console, local, "/#/local")
    console.fill("#advance-by", "14d1h")
    console.click("button:text-is('Advance')")
    console.wait_for_selector("text=The clock moved 14d 1h")

    # Then the workflow's page shows the escalation, and its history the timeout
    open_page(console, local, f"/#/workflows/{workflow_id}")
    console.wait_for_selector("ol.timeline li.event-escalated, ol.timeline li.event-timeout")
    level = console.locator("dl.facts dd").nth(1).inner_text()
    assert level.strip() == "1"
    assert state_of(local, workflow_id)["escalationLevel"] == 1


def test_what_a_group_may_not_do_is_not_offered(console, local):
    # Given a submitted application (it awaits assignReviewer, validateMethodology, updateMetadata), and
    # the console acting as an applicant
    workflow_id = new_application(local, "console-groups", status="SUBMITTED")
    act_as_applicant(console, local)

    # When the applicant opens the workflow
    open_page(console, local, f"/#/workflows/{workflow_id}")
    console.wait_for_selector("text=Send updateMetadata")

    # Then operator pages and actions are not offered, and of the awaited signals only the applicant's
    assert console.locator("nav.main-nav a:visible").all_inner_texts() == ["Workflows", "Local platform"]
    assert console.locator("text=Operator actions").count() == 0
    assert console.locator("text=Send assignReviewer").count() == 0
    assert console.locator("text=Send validateMethodology").count() == 0
    # And an operator page opened by its address says it is for operators
    open_page(console, local, "/#/batches")
    console.wait_for_selector("text=This page is for operators.")


def test_the_console_is_usable_with_the_keyboard(console, local):
    # Given the console's list page
    since = platform_now(local).isoformat().replace("+00:00", "Z")
    workflow_id = new_application(local, "console-keyboard")
    open_page(console, local, f"/#/workflows?type=accu-application&startedAfter={since}")

    # When the user tabs from the top of the page
    console.keyboard.press("Tab")

    # Then the first stop skips to the page, and links are reached and followed with Enter
    assert console.evaluate("document.activeElement.className") == "skip-link"
    console.locator(f"a:text-is('{workflow_id}')").focus()
    console.keyboard.press("Enter")
    console.wait_for_url(re.compile(f"#/workflows/{workflow_id}$"))
    console.wait_for_selector("svg.diagram")
    # And the page's heading has the focus after the navigation (screen readers announce it)
    assert console.evaluate("document.activeElement.tagName") == "H1"


@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_pages_fit_the_screen_and_do_not_shift_while_loading(browser, local, width, height):
    # Given a workflow with a history, and a browser of a laptop's or a phone's size
    workflow_id = new_application(local, "console-layout", status="SUBMITTED")
    context = browser.new_context(viewport={"width": width, "height": height}, timezone_id=ZONE)
    page = context.new_page()
    page.add_init_script(
        "window.__shift = 0; new PerformanceObserver((list) => { for (const entry of list.getEntries())"
        " if (!entry.hadRecentInput) window.__shift += entry.value; }).observe({type: 'layout-shift', buffered: true});"
    )
    try:
        for hash_path in ("/#/workflows", f"/#/workflows/{workflow_id}", "/#/operations", "/#/batches", "/#/local"):
            # When each main page loads
            open_page(page, local, hash_path)
            page.wait_for_load_state("networkidle")

            # Then nothing is wider than the screen, and the layout barely moved while data arrived
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{hash_path} is {overflow}px wider than {width}px"
            shift = page.evaluate("window.__shift")
            assert shift < 0.1, f"{hash_path}: cumulative layout shift {shift:.3f}"
    finally:
        context.close()


def test_in_aws_the_console_signs_in_with_pkce_and_sends_the_id_token(browser, local):
    """Cognito's hosted UI and token endpoint cannot be reached here: the browser's network layer
    plays them (Playwright routes), checking what the console sends; the API calls go to the local
    platform, with the identity API Gateway's authorizer would take from the token."""
    import base64
    import hashlib
    import json as json_module
    from urllib.parse import parse_qs, urlsplit

    sign_in = "https://accu-test.auth.ap-southeast-2.amazoncognito.com"
    redirect = f"{local.base}/console/"
    config = {
        "mode": "cognito",
        "apiUrl": local.base,
        "region": "ap-southeast-2",
        "userPoolId": "ap-southeast-2_Test",
        "clientId": "console-client",
        "signInDomain": sign_in,
        "redirectUri": redirect,
    }
    claims = {"sub": "olga-sub", "email": "olga@example.com", "cognito:groups": ["operators"]}
    payload = base64.urlsafe_b64encode(json_module.dumps(claims).encode()).decode().rstrip("=")
    id_token = f"eyJhbGciOiJub25lIn0.{payload}.signature"
    seen: dict[str, Any] = {"authorizations": set()}

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.route("**/console/config.json", lambda route: route.fulfill(json=config))

    def deployed_headers(route):  # CloudFront's policy: the API and the sign-in domain may be called
        response = route.fetch()
        policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        policy += f"connect-src 'self' {sign_in}"
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": policy})

    page.route(re.compile(rf"^{re.escape(local.base)}/console/(\?.*)?$"), deployed_headers)

    def authorize(route):  # the hosted UI: the user signs in, Cognito redirects back with a code
        query = parse_qs(urlsplit(route.request.url).query)
        seen["authorize"] = {key: values[0] for key, values in query.items()}
        back = f"{redirect}?code=the-code&state={query['state'][0]}"
        # A new navigation rather than a 302 (Playwright routes no redirected request; the page must get
        # the deployed CSP below).
        route.fulfill(content_type="text/html", body=f'<meta http-equiv="refresh" content="0;url={back}">')

    def token(route):
        seen["token"] = {key: values[0] for key, values in parse_qs(route.request.post_data or "").items()}
        tokens = {"id_token": id_token, "access_token": "access", "refresh_token": "refresh", "expires_in": 3600}
        route.fulfill(json=tokens)

    def api(route):  # API Gateway's authorizer: the token's claims become the identity
        authorization = route.request.headers.get("authorization")
        seen["authorizations"].add(authorization)
        identity = {"x-user-id": claims["sub"], "x-user-groups": "operators"} if authorization == id_token else {}
        route.continue_(headers={**route.request.headers, **identity})

    page.route(f"{sign_in}/oauth2/authorize*", authorize)
    page.route(f"{sign_in}/oauth2/token", token)
    page.route(re.compile(rf"^{re.escape(local.base)}/(workflows|metrics|lifecycles|openapi\.json)"), api)
    try:
        # Given a visitor who is not signed in
        page.goto(f"{local.base}/console/#/operations")
        page.wait_for_selector("text=Sign in with Cognito")

        # When they sign in
        page.click("text=Sign in with Cognito")

        # Then the console asked for a code with an S256 challenge of the verifier it then sent
        page.wait_for_selector("#identity:has-text('olga@example.com')")
        authorize_query, token_form = seen["authorize"], seen["token"]
        assert authorize_query["response_type"] == "code" and authorize_query["code_challenge_method"] == "S256"
        assert authorize_query["client_id"] == "console-client" and authorize_query["redirect_uri"] == redirect
        verifier = token_form["code_verifier"]
        expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        assert authorize_query["code_challenge"] == expected and len(verifier) >= 43
        assert token_form["grant_type"] == "authorization_code" and token_form["code"] == "the-code"
        # And it is back on the page it was on, as the signed-in operator, sending the ID token
        page.wait_for_url(re.compile(r"/console/#/operations$"))
        assert "olga@example.com (operators)" in page.locator("#identity").inner_text()
        page.goto(f"{local.base}/console/#/workflows")
        page.wait_for_selector("table.workflows, p.empty")
        assert seen["authorizations"] == {id_token}
    finally:
        context.close()


def test_a_workflow_is_started_from_its_lifecycles_input_form(console, local):
    # Given the console acting as an applicant
    act_as_applicant(console, local)

    # When they start a project, its input filled in the form built from the lifecycle's input schema
    console.click("summary:text-is('Start a workflow')")
    console.select_option("#start-type", "project")
    workflow_id = f"console-start-{uuid.uuid4().hex[:8]}"
    console.fill("#start-id", workflow_id)
    console.fill(".start-panel input[name=name]", "Mallee revegetation")
    console.fill(".start-panel input[name=methodologyId]", "ERF-reveg")
    console.fill(".start-panel input[name=reportingPeriodMonths]", "12")
    console.click("button:text-is('Start')")

    # Then its page opens, started as they asked
    console.wait_for_url(re.compile(f"#/workflows/{workflow_id}$"))
    console.wait_for_selector(f"text=Started {workflow_id} in DRAFT.")
    state = state_of(local, workflow_id)
    assert state["startedBy"] == "alice" and state["input"]["name"] == "Mallee revegetation"
