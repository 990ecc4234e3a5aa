"""Which lines of a symbol feed a frame's line: the line, and the assignments of what it uses."""

from __future__ import annotations

from agent.diagnosis.flow import feeding_lines
from agent.domain import Symbol

CODE = """def build_line(item, region):
    net = item.price * item.quantity
    rate = rate_for(region, item.category)
    label: str = describe(item)
    total, count = summarise(item)
    rate_table = load_rates()
    if rate == 0:
        log("zero")
    return Line(net=net, tax=percent(net, rate))
"""


def test_the_line_and_the_assignments_of_the_names_it_uses_feed_it() -> None:
    symbol = Symbol(
        name="build_line", qualname="build_line", kind="function", path="x.py",
        start_line=1, end_line=9,
    )  # fmt: skip
    text = CODE.splitlines()
    assert feeding_lines(text, symbol, 9) == {2, 3, 9}
    assert feeding_lines(text, symbol, 8) == {8}
    assert feeding_lines(["total, count = summarise(item)", "print(count)"], symbol, 2) == {1, 2}
