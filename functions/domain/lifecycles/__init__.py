"""One module per lifecycle; LIFECYCLES names them by workflow type."""

from functions.domain.lifecycle import Lifecycle
from functions.domain.lifecycles import accu_application, calendar, document, project

LIFECYCLES: dict[str, Lifecycle] = {
    lifecycle.type: lifecycle
    for lifecycle in (accu_application.LIFECYCLE, project.LIFECYCLE, document.LIFECYCLE, calendar.LIFECYCLE)
}
