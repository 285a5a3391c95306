"""Errors raised while loading partner and layout specs.

A spec error always names the file, the key (dotted path inside the YAML document) and the reason, so an
operator can fix the YAML without reading code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class SpecProblem:
    """One problem found in one spec file."""

    file: Path
    key: str
    reason: str

    def __str__(self) -> str:
        where = f"key '{self.key}'" if self.key else "document"
        return f"{self.file}: {where}: {self.reason}"


class SpecError(ValueError):
    """A spec file is invalid. Carries every problem found in it, not just the first."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        if not problems:
            raise ValueError("SpecError needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def file(self) -> Path:
        return self.problems[0].file

    @classmethod
    def single(cls, file: Path, key: str, reason: str) -> "SpecError":
        return cls([SpecProblem(file=file, key=key, reason=reason)])
