"""Base model for every config section: unknown keys are errors, values are immutable."""

from __future__ import annotations

import re

from pydantic import AfterValidator, BaseModel, ConfigDict


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def matching(pattern: str | re.Pattern[str], words: str) -> AfterValidator:
    """A string format checked against ``pattern`` whose error says ``words`` (what is allowed), not the regex."""
    compiled = re.compile(pattern) if isinstance(pattern, str) else pattern

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(words)
        return value

    return AfterValidator(check)
