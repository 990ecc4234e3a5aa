"""IndexError: off-by-one indexes and loop bounds, or a guard on the index."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from agent.repair.pysource import FUNCTIONS, LOOPS, is_pure, same
from agent.repair.rules import (
    Fix,
    Site,
    bonus,
    enclosing_function,
    guards,
    is_int,
    names_in,
    seen,
)


def _indexings(site: Site) -> Iterator[tuple[ast.Subscript, bool | None]]:
    if "index out of range" not in site.error.value:
        return
    for node in site.nodes(ast.Subscript):
        assert isinstance(node, ast.Subscript)
        if isinstance(node.slice, ast.Slice):
            continue
        seq, index = site.value(node.value), site.value(node.slice)
        if isinstance(seq, list | tuple | str) and is_int(index):
            if -len(seq) <= index < len(seq):
                continue
            yield node, True
        else:
            yield node, None


def _index_variable(index: ast.expr) -> tuple[str, int] | None:
    """`i` -> (i, 0), `i + 2` -> (i, 2), `i - 1` -> (i, -1)."""
    match index:
        case ast.Name(id=name):
            return name, 0
        case ast.BinOp(left=ast.Name(id=name), op=ast.Add(), right=ast.Constant(value=int(k))):
            return name, k
        case ast.BinOp(left=ast.Name(id=name), op=ast.Sub(), right=ast.Constant(value=int(k))):
            return name, -k
    return None


def _length_plus(bound: ast.expr, seq: ast.expr) -> int | None:
    """k when `bound` is `len(seq) + k` (or `len(seq)`, k = 0)."""
    match bound:
        case ast.Call(func=ast.Name(id="len"), args=[arg], keywords=[]) if same(arg, seq):
            return 0
        case ast.BinOp(left=left, op=ast.Add() | ast.Sub() as op, right=ast.Constant(value=int(k))):
            base = _length_plus(left, seq)
            if base == 0:
                return k if isinstance(op, ast.Add) else -k
    return None


def _range_of(loop: ast.For, name: str) -> list[ast.expr] | None:
    match loop:
        case ast.For(target=ast.Name(id=target), iter=ast.Call(func=ast.Name(id="range"))):
            assert isinstance(loop.iter, ast.Call)
            args = loop.iter.args
            if target == name and 1 <= len(args) <= 2 and not loop.iter.keywords:
                return args
    return None


def _starts_at_one(args: list[ast.expr]) -> bool:
    return len(args) == 2 and isinstance(args[0], ast.Constant) and args[0].value == 1


def last_index_off_by_one(site: Site) -> Iterator[Fix]:
    """`xs[len(xs)]` -> `xs[len(xs) - 1]`."""
    for node, evidence in _indexings(site):
        func = enclosing_function(site, node)
        if func is None or _length_plus(node.slice, node.value) != 0:
            continue
        seq = site.code.expr(node.value)
        yield Fix(
            site.code.replace((node.slice, f"len({seq}) - 1")),
            f"Index the last element of {seq} in {func.name}",
            f"`{func.name}` reads `{seq}[len({seq})]`, one past the last element; the last "
            f"element is at `len({seq}) - 1`." + seen(evidence, "the index was out of range"),
            0.85 + bonus(evidence),
        )


def range_bound(site: Site) -> Iterator[Fix]:
    """`for i in range(len(xs) + 1): xs[i]` -> `range(len(xs))` (and `xs[i + 1]` -> bound - 1)."""
    for node, evidence in _indexings(site):
        func, variable = enclosing_function(site, node), _index_variable(node.slice)
        if func is None or variable is None:
            continue
        name, shift = variable
        for loop in site.code.enclosing_fors(node):
            args = _range_of(loop, name)
            if args is None:
                continue
            extra = _length_plus(args[-1], node.value)
            if extra is not None and extra + shift >= 1:
                seq, wanted = site.code.expr(node.value), -shift
                bound = f"len({seq})" + (f" + {wanted}" if wanted > 0 else "")
                bound += f" - {-wanted}" if wanted < 0 else ""
                index = site.code.expr(node.slice)
                yield Fix(
                    site.code.replace((args[-1], bound)),
                    f"Fix the loop bound over {seq} in {func.name}",
                    f"The loop in `{func.name}` stops at `{site.code.expr(args[-1])}`, so on "
                    f"its last pass `{seq}[{index}]` reads past the end; the bound is now "
                    f"`{bound}`." + seen(evidence, "the index was out of range"),
                    (0.6 if _starts_at_one(args) and shift == 0 else 0.8) + bonus(evidence),
                )
            break


def one_based_index(site: Site) -> Iterator[Fix]:
    """`xs[i]` -> `xs[i - 1]` when `i` counts from 1."""
    for node, evidence in _indexings(site):
        func = enclosing_function(site, node)
        if func is None or not isinstance(node.slice, ast.Name):
            continue
        name, seq = node.slice.id, site.code.expr(node.value)
        loops = [args for f in site.code.enclosing_fors(node) if (args := _range_of(f, name))]
        from_one = bool(loops) and _starts_at_one(loops[0])
        length = site.value(ast.Call(func=ast.Name(id="len"), args=[node.value], keywords=[]))
        at_length = is_int(length) and site.value(node.slice) == length
        if not (from_one or at_length):
            continue
        yield Fix(
            site.code.replace((node.slice, f"{name} - 1")),
            f"Index {seq} from 0 in {func.name}",
            f"`{name}` counts from 1 but `{seq}` is indexed from 0, so `{seq}[{name}]` reads one "
            f"past the element meant; it now reads `{seq}[{name} - 1]`."
            + seen(evidence, f"`{name}` equalled the length of `{seq}`"),
            (0.8 if from_one else 0.65) + bonus(evidence),
        )


def while_bound(site: Site) -> Iterator[Fix]:
    """`while i <= len(xs): xs[i]` -> `while i < len(xs):`."""
    for node, evidence in _indexings(site):
        func, variable = enclosing_function(site, node), _index_variable(node.slice)
        if func is None or variable is None:
            continue
        scopes = LOOPS + FUNCTIONS
        loop = next((a for a in site.code.ancestors(node) if isinstance(a, scopes)), None)
        if not isinstance(loop, ast.While):
            continue
        match loop.test:
            case ast.Compare(left=ast.Name(id=left), ops=[ast.LtE()], comparators=[right]):
                new = f"{left} < {site.code.expr(right)}" if left == variable[0] else None
            case ast.Compare(left=left_node, ops=[ast.GtE()], comparators=[ast.Name(id=right)]):
                new = f"{site.code.expr(left_node)} > {right}" if right == variable[0] else None
            case _:
                new = None
        if new is not None:
            yield Fix(
                site.code.replace((loop.test, new)),
                f"Stop the loop before the end of {site.code.expr(node.value)} in {func.name}",
                f"The loop in `{func.name}` runs while `{site.code.expr(loop.test)}`, which lets "
                f"the index reach the length; it now runs while `{new}`."
                + seen(evidence, "the index was out of range"),
                0.75 + bonus(evidence),
            )


def guard_index(site: Site) -> Iterator[Fix]:
    """`if <index> >= len(<seq>): break/return` (or `if not <seq>:` for `[0]`/`[-1]`)."""
    for node, evidence in _indexings(site):
        stmt, func = site.code.statement_of(node), enclosing_function(site, node)
        if stmt is None or func is None or not site.code.guardable(node.value, node, stmt):
            continue
        if site.code.bound_inside(node, stmt) & names_in(node.slice) or not is_pure(node.slice):
            continue
        seq, index = site.code.expr(node.value), site.code.expr(node.slice)
        value = site.value(node.slice)
        empty = is_int(value) and value in (0, -1) and isinstance(node.slice, ast.Constant)
        condition = f"not {seq}" if empty else f"{index} >= len({seq})"
        yield from guards(
            site,
            stmt,
            condition,
            title=f"Guard the index into {seq} in {func.name}",
            why=f"`{func.name}` reads `{seq}[{index}]`, which can be out of range."
            + seen(evidence, "the index was out of range"),
            confidence=0.5 + bonus(evidence),
            loop_exit="break",
            loop_only=True,
        )


def open_last_bound(site: Site) -> Iterator[Fix]:
    """`lo <= x < bounds[i + 1]` in a loop over `bounds`: the last entry has no next one, so its
    range is open: `lo <= x and (i + 1 >= len(bounds) or x < bounds[i + 1])`."""
    for node, evidence in _indexings(site):
        ahead = _index_variable(node.slice)
        func = enclosing_function(site, node)
        if func is None or ahead is None or ahead[1] != 1 or not is_pure(node.value):
            continue
        if not any(_walks(loop, ahead[0], node.value) for loop in site.code.enclosing_fors(node)):
            continue
        bound: ast.AST = node
        while isinstance(site.code.parents.get(bound), ast.Subscript | ast.Attribute):
            parent = site.code.parents[bound]
            if isinstance(parent, ast.Subscript) and parent.value is not bound:
                break
            bound = parent
        compare = site.code.parents.get(bound)
        if not isinstance(compare, ast.Compare) or not _in_if_test(site, compare):
            continue
        operands = [compare.left, *compare.comparators]
        if bound not in operands[1:] or len(operands) > 3 or None in map(_op, compare.ops):
            continue
        seq, index = site.code.expr(node.value), site.code.expr(node.slice)
        position = operands.index(bound)
        tail = f"{site.code.expr(operands[position - 1])} {_op(compare.ops[position - 1])} "
        tail += site.code.expr(bound)
        open_end = f"({index} >= len({seq}) or {tail})"
        if len(operands) == 3:
            if position != 2:
                continue
            head = f"{site.code.expr(operands[0])} {_op(compare.ops[0])} "
            head += site.code.expr(operands[1])
            new = f"{head} and {open_end}"
        else:
            new = open_end
        yield Fix(
            site.code.replace((compare, new)),
            f"Leave the last range open in {func.name}",
            f"`{func.name}` bounds each entry of `{seq}` by the next one, `{seq}[{index}]`, "
            f"which the last entry does not have. The last entry's range is now open."
            + seen(evidence, "the index was past the end"),
            0.8 + bonus(evidence),
        )


def _in_if_test(site: Site, node: ast.AST) -> bool:
    child, parent = node, site.code.parents.get(node)
    while isinstance(parent, ast.BoolOp | ast.UnaryOp):
        child, parent = parent, site.code.parents.get(parent)
    return isinstance(parent, ast.If | ast.While | ast.IfExp) and parent.test is child


def _op(op: ast.cmpop) -> str | None:
    return {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}.get(type(op))


def _walks(loop: ast.For, index: str, seq: ast.expr) -> bool:
    """Whether `loop` numbers the entries of `seq` with `index` (enumerate, or range(len))."""
    match loop:
        case ast.For(
            target=ast.Tuple(elts=[ast.Name(id=name), *_]),
            iter=ast.Call(func=ast.Name(id="enumerate"), args=[walked]),
        ):
            return name == index and same(walked, seq)
        case ast.For(
            target=ast.Name(id=name),
            iter=ast.Call(
                func=ast.Name(id="range"),
                args=[ast.Call(func=ast.Name(id="len"), args=[walked])],
            ),
        ):
            return name == index and same(walked, seq)
    return False
