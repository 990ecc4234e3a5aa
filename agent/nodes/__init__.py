"""One module per graph node. A node reads state, calls ports, returns a partial update."""

from __future__ import annotations

from typing import Any

from agent.domain import AuditEntry


def audit(node: str, saw: str, decided: str, why: str, **data: Any) -> list[dict[str, Any]]:
    """The one-entry audit list a node adds to the state."""
    entry = AuditEntry(node=node, saw=saw, decided=decided, why=why, data=data)
    return [entry.model_dump(mode="json")]
