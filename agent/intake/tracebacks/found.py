"""What a reader finds in a text: one printed exception chain, where it is, in which shape."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.domain import ExceptionInfo


@dataclass
class Found:
    chain: list[ExceptionInfo]
    """Causes first, the exception finally raised last; in each, the outermost frame first."""
    shape: str
    """How it was printed: `python`, `ipython`, `pytest`."""
    line: int
    """The line of the text where it starts, 1-based."""
    leaves: list[Found] = field(default_factory=list)
    """For an exception group, the tracebacks of its sub-exceptions, as printed."""

    @property
    def is_group(self) -> bool:
        return bool(self.leaves) or self.chain[-1].type.endswith("ExceptionGroup")
