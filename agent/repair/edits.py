"""Search/replace edit blocks, as a model proposes them, applied to files of one commit."""

from __future__ import annotations

from dataclasses import dataclass

from agent.domain import FileChange


@dataclass(frozen=True)
class EditBlock:
    path: str
    search: str
    replace: str


class EditError(ValueError):
    """A block that cannot be applied: the reason is meant for the model to read."""


def apply_blocks(blocks: list[EditBlock], read: dict[str, str | None]) -> list[FileChange]:
    """Apply `blocks` in order to the files in `read` (path -> text, None when missing).

    Each block's `search` text must occur exactly once in the file as the earlier blocks left
    it. An empty `search` creates a file that does not exist yet.
    """
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    for block in blocks:
        if block.path not in after:
            original = read.get(block.path)
            if original is None and block.search:
                raise EditError(f"{block.path} does not exist at this commit")
            if original is not None and not block.search:
                raise EditError(f"{block.path} exists; an empty search text only creates files")
            before[block.path] = original or ""
            after[block.path] = original or ""
        text = after[block.path]
        if block.search:
            count = text.count(block.search)
            if count != 1:
                where = "does not occur" if count == 0 else f"occurs {count} times"
                raise EditError(
                    f"the search text {where} in {block.path}; copy it exactly from read_code "
                    "(without line numbers) and include enough lines to make it unique"
                )
            text = text.replace(block.search, block.replace, 1)
        else:
            text = block.replace
        after[block.path] = text
    changes = [FileChange(path=p, before=before[p], after=after[p]) for p in after]
    unchanged = [c.path for c in changes if c.before == c.after]
    if unchanged:
        raise EditError(f"the edit leaves {', '.join(unchanged)} unchanged")
    return changes
