"""The single-statement bug patterns: each edit is one line inside a function, names the
function it is in, parses, and is the same list for the same seed."""

from __future__ import annotations

from evals.builders.mutations import PATTERNS, candidates

SOURCE = '''\
LIMIT = 10


def mean(values):
    """The mean; 0 for no values."""
    if not values:
        return 0
    return sum(values) / len(values)


class Box:
    def pick(self, items, key):
        found = items.get(key, -1)
        if found > 3 and key:
            return max(found, key)
        if key is None:
            return self.fallback(items)
        total = (found +
                 LIMIT)
        return total
'''


DOCSTRING = '"""The mean; 0 for no values."""'


def edits(pattern: str) -> set[tuple[str, str, str]]:
    found = candidates("box.py", SOURCE, seed=7)
    return {(m.function, *m.statement(SOURCE)) for m in found.get(pattern, [])}


def test_each_pattern_makes_its_own_kind_of_edit() -> None:
    assert ("mean", "return sum(values) / len(values)", "return sum(values) * len(values)") in (
        edits("binary-operator")
    )
    assert ("Box.pick", "if found > 3 and key:", "if found > 3 or key:") in edits("binary-operator")
    assert ("Box.pick", "if key is None:", "if key is not None:") in edits("binary-operator")
    assert ("Box.pick", "found = items.get(key, -1)", "found = items.get(key, 1)") in edits(
        "unary-operator"
    )
    assert ("mean", "return 0", "return 1") in edits("numeric-literal")
    assert ("Box.pick", "return max(found, key)", "return max(key, found)") in edits(
        "swap-arguments"
    )
    assert ("Box.pick", "if found > 3 and key:", "if found > 3:") in edits("less-specific-if")
    assert ("mean", "if not values:", "if values:") in edits("negation")
    assert ("Box.pick", "if found > 3 and key:", "if found > 3 and not key:") in edits("negation")
    more = edits("more-specific-if")
    assert any(after.startswith("if (key is None) and (") for _, _, after in more)
    assert ("Box.pick", "return self.fallback(items)", "return key.fallback(items)") in edits(
        "caller"
    ) or ("Box.pick", "return self.fallback(items)", "return found.fallback(items)") in edits(
        "caller"
    )
    renamed = {after for _, _, after in edits("function-name")}
    assert "return len(values) / len(values)" in renamed


def test_a_receiver_is_the_caller_pattern_and_never_an_identifier() -> None:
    identifiers = edits("identifier")
    assert identifiers, "another variable of the same function is an edit"
    assert not any(after.startswith("found = key.get") for _, _, after in identifiers)
    assert all(function in ("mean", "Box.pick") for function, _, _ in identifiers)


def test_only_single_lines_inside_functions_are_edited() -> None:
    found = candidates("box.py", SOURCE, seed=7)
    lines = SOURCE.splitlines()
    for mutations in found.values():
        for mutation in mutations:
            assert lines[mutation.line - 1].strip() not in ("LIMIT = 10", DOCSTRING)
            assert "LIMIT)" not in lines[mutation.line - 1]  # the two-line sum is left alone
            mutated = mutation.apply(SOURCE)
            assert mutation.changes(SOURCE)
            assert mutated.splitlines()[: mutation.line - 1] == lines[: mutation.line - 1]
            assert mutated.splitlines()[mutation.line :] == lines[mutation.line :]
    assert set(found) <= set(PATTERNS)


def test_the_list_is_the_same_for_the_same_seed() -> None:
    first = candidates("box.py", SOURCE, seed=7)
    again = candidates("box.py", SOURCE, seed=7)
    assert {p: [m.key for m in ms] for p, ms in first.items()} == {
        p: [m.key for m in ms] for p, ms in again.items()
    }


def test_a_file_that_does_not_parse_has_no_mutations() -> None:
    assert candidates("broken.py", "def f(:\n    pass\n", seed=1) == {}


def test_an_edit_to_the_same_tree_changes_nothing() -> None:
    source = "def f(a):\n    return (a) + 1\n"
    (literal,) = candidates("f.py", source, seed=1)["numeric-literal"]
    assert literal.changes(source)
    same = literal.__class__(**{**literal.__dict__, "replacement": "1"})
    assert not same.changes(source)
    broken = literal.__class__(**{**literal.__dict__, "replacement": "1 +"})
    assert not broken.changes(source)
