"""Claude engine: a tool-use loop in which the model reads code and history, runs tests and
proposes search/replace edits; the proposals the guardrails allow are its candidates.

Models are tried in tier order: the next tier starts a fresh conversation only when the one
before ended without an allowed proposal. Every exit has a name (`journal.stop`): `finished`,
`end_turn`, `loop: ...` (the same tool call with the same arguments a third time), `budget:
steps|wall time|tokens|dollars`, or `model error: ...`. The repository context (diagnosis,
suspect code, reproduction) is one system block marked for prompt caching.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.domain import ModelReply, ModelUsage, Patch
from agent.errors import ModelError
from agent.guardrails.policy import Policy
from agent.ports import Model, Sandbox
from agent.prompting import render
from agent.repair import RepairContext, RepairJournal
from agent.repair.claude_tools import ENGINE, Toolbox

CONTEXT_LINES = 120
"""Most lines of one suspect's code the repository context shows."""
LOOP_REPEATS = 3


@dataclass(frozen=True)
class Budget:
    max_steps: int
    max_seconds: float
    max_tokens: int
    """Input plus output tokens of the whole incident."""
    max_cost_usd: float
    """Dollars of the whole incident."""
    max_output_tokens: int


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float

    def cost(self, usage: ModelUsage) -> float:
        dollars = (
            usage.input_tokens * self.input
            + usage.cache_creation_input_tokens * self.input * 1.25
            + usage.cache_read_input_tokens * self.input * 0.1
            + usage.output_tokens * self.output
        )
        return dollars / 1_000_000


class ClaudeEngine:
    """Fixes proposed by Claude with tools; the test node decides what is proven."""

    name = ENGINE

    def __init__(
        self,
        model: Model,
        tiers: list[tuple[str, Price]],
        budget: Budget,
        sandbox: Sandbox,
        policy: Policy,
        workdir: Path,
    ) -> None:
        self.model = model
        self.tiers = tiers
        self.budget = budget
        self.sandbox = sandbox
        self.policy = policy
        self.workdir = workdir

    def candidates(self, ctx: RepairContext) -> list[Patch]:
        toolbox = Toolbox(ctx, self.sandbox, self.policy, self.workdir)
        system: list[dict[str, Any]] = [
            {"type": "text", "text": render("repair_system.md.j2", policy=self.policy)},
            {
                "type": "text",
                "text": _repository_context(ctx),
                "cache_control": {"type": "ephemeral"},
            },
        ]
        task = render("repair_task.md.j2", incident=ctx.incident)
        run = _Run(ctx.journal, self.budget, time.monotonic())
        for model_name, price in self.tiers:
            conversation = _Conversation(model_name, price, system, task)
            ctx.journal.transcript.append(conversation.record)
            self._converse(conversation, toolbox, run)
            if toolbox.proposals or ctx.journal.budget_exhausted or run.fatal:
                break
        ranked = list(reversed(toolbox.proposals))
        return [p.model_copy(update={"rank": rank}) for rank, p in enumerate(ranked)][: ctx.limit]

    def _converse(self, conversation: _Conversation, toolbox: Toolbox, run: _Run) -> None:
        journal = run.journal
        calls: Counter[str] = Counter()
        while True:
            if (spent := run.spent()) is not None:
                journal.stop, journal.budget_exhausted = f"budget: {spent}", True
                return
            try:
                reply = self.model.create(
                    model=conversation.model,
                    system=conversation.system,
                    messages=conversation.messages,
                    tools=toolbox.specs(),
                    max_tokens=self.budget.max_output_tokens,
                )
            except ModelError as error:
                journal.stop, run.fatal = f"model error: {error}", True
                return
            run.steps += 1
            conversation.add_reply(reply, conversation.price.cost(reply.usage))
            journal.usage += reply.usage
            journal.cost_usd += conversation.price.cost(reply.usage)
            uses = [block for block in reply.content if block.get("type") == "tool_use"]
            if not uses:
                journal.stop = "end_turn"
                return
            results = []
            for use in uses:
                key = json.dumps([use.get("name"), use.get("input")], sort_keys=True)
                calls[key] += 1
                if calls[key] >= LOOP_REPEATS:
                    journal.stop = f"loop: {use.get('name')} called {LOOP_REPEATS} times alike"
                    return
                result = toolbox.call(str(use.get("name")), use.get("input"))
                results.append(result.block(str(use.get("id"))))
            conversation.messages.append({"role": "user", "content": results})
            if toolbox.finished:
                journal.stop = "finished"
                return


@dataclass
class _Run:
    journal: RepairJournal
    budget: Budget
    started: float
    steps: int = 0
    fatal: bool = False

    def spent(self) -> str | None:
        """The budget that is used up, if any."""
        if self.steps >= self.budget.max_steps:
            return "steps"
        if time.monotonic() - self.started >= self.budget.max_seconds:
            return "wall time"
        journal = self.journal
        if journal.earlier_tokens + journal.usage.total >= self.budget.max_tokens:
            return "tokens"
        if journal.earlier_cost_usd + journal.cost_usd >= self.budget.max_cost_usd:
            return "dollars"
        return None


class _Conversation:
    def __init__(self, model: str, price: Price, system: list[dict[str, Any]], task: str) -> None:
        self.model = model
        self.price = price
        self.system = system
        self.messages: list[dict[str, Any]] = [{"role": "user", "content": task}]
        self.steps: list[dict[str, Any]] = []
        self.record: dict[str, Any] = {
            "model": model,
            "system": system,
            "messages": self.messages,
            "steps": self.steps,
        }

    def add_reply(self, reply: ModelReply, cost: float) -> None:
        self.messages.append({"role": "assistant", "content": reply.content})
        self.steps.append(
            {
                "model": reply.model,
                "stop_reason": reply.stop_reason,
                "usage": reply.usage.model_dump(),
                "cost_usd": round(cost, 6),
            }
        )


def _repository_context(ctx: RepairContext) -> str:
    suspects = []
    for suspect in ctx.diagnosis.suspects[:3]:
        text = ctx.repo.read(ctx.rev, suspect.file) or ""
        lines = text.splitlines()
        start = suspect.start_line or max(1, min(suspect.lines or [1]) - 20)
        end = min(suspect.end_line or start + CONTEXT_LINES, start + CONTEXT_LINES - 1, len(lines))
        code = "\n".join(f"{n:>5}| {lines[n - 1]}" for n in range(start, end + 1))
        suspects.append({"suspect": suspect, "start": start, "end": end, "code": code})
    return render(
        "repair_context.md.j2",
        diagnosis=ctx.diagnosis,
        suspects=suspects,
        files=ctx.repo.tracked_files(ctx.rev)[:200],
    )
