"""One error type for every bad input the library or the config loader refuses at synth.

Constructs and the config schema collect *all* problems first and raise once, so a user fixes a
file in one pass. Each problem names where it is (a construct path or a config key path), the value
received and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Token


@dataclass(frozen=True)
class Problem:
    """One refused value: ``where`` (e.g. ``endpoints[1].autoscaling.max``), the value and what is allowed."""

    where: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        return f"{self.where}: got {self.value!r}; {self.allowed}"


class PlatformValidationError(ValueError):
    """Raised at synth with every problem found; ``problems`` keeps them for callers and tests."""

    def __init__(self, subject: str, problems: list[Problem]) -> None:
        self.subject = subject
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{subject}: {len(self.problems)} problem(s)\n{lines}")


class Problems:
    """Collects problems for one construct or file; ``raise_if_any`` raises them together.

    Values that are unresolved CDK tokens are skipped: they are only known at deploy time.
    """

    def __init__(self, subject: str, prefix: str = "") -> None:
        self.subject = subject
        self.prefix = prefix
        self._items: list[Problem] = []

    def _path(self, key: str) -> str:
        if not self.prefix:
            return key
        return f"{self.prefix}{key}" if key.startswith("[") else f"{self.prefix}.{key}"

    def add(self, key: str, value: Any, allowed: str) -> None:
        self._items.append(Problem(self._path(key), value, allowed))

    def check(self, ok: bool, key: str, value: Any, allowed: str) -> bool:
        """Record a problem unless ``ok`` or ``value`` is an unresolved token; returns ``ok``."""
        if is_token(value):
            return True
        if not ok:
            self.add(key, value, allowed)
        return ok

    def extend(self, problems: list[Problem]) -> None:
        self._items.extend(problems)

    @property
    def items(self) -> list[Problem]:
        return list(self._items)

    def raise_if_any(self) -> None:
        if self._items:
            raise PlatformValidationError(self.subject, self._items)


def is_token(value: Any) -> bool:
    """True for CDK tokens (values resolved only at deploy time), which synth cannot validate."""
    # Fast path without a jsii round trip: CDK encodes string tokens as "${Token[...]}" inside the
    # string and number tokens as doubles near -1.89e289; anything else is a plain value.
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return "{Token[" in value and Token.is_unresolved(value)
    if isinstance(value, (int, float)):
        return abs(value) > 1e200 and Token.is_unresolved(value)
    return False
