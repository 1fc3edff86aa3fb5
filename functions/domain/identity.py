"""Who is calling, and what their groups allow (DESIGN §5)."""

from __future__ import annotations

from dataclasses import dataclass

APPLICANTS = "applicants"
REVIEWERS = "reviewers"
APPROVERS = "approvers"
OPERATORS = "operators"
GROUPS = (APPLICANTS, REVIEWERS, APPROVERS, OPERATORS)


@dataclass(frozen=True)
class Identity:
    user_id: str
    groups: frozenset[str]

    @property
    def is_operator(self) -> bool:
        return OPERATORS in self.groups

    def may(self, allowed_groups: frozenset[str]) -> bool:
        """Operators may do everything; others need one of the allowed groups."""
        return self.is_operator or bool(self.groups & allowed_groups)

    def reads_all(self) -> bool:
        """Applicants read only what they started; the other groups read everything."""
        return bool(self.groups & {REVIEWERS, APPROVERS, OPERATORS})

    def may_read(self, started_by: str) -> bool:
        return self.reads_all() or started_by == self.user_id


SYSTEM = Identity(user_id="system", groups=frozenset({OPERATORS}))


def parse_groups(raw: str | list[str] | None) -> frozenset[str]:
    """Cognito puts groups in a claim as "a,b", "[a b]" or a list; the local runtime as "a,b"."""
    if raw is None:
        return frozenset()
    parts = raw if isinstance(raw, list) else raw.strip().strip("[]").replace(",", " ").split()
    return frozenset(part.strip() for part in parts if part.strip())
