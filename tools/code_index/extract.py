"""Facts of one source file: definitions and calls, from one run of the language's query.

Pure and light (tree-sitter only, no pydantic), so it runs in worker processes. Facts are plain
JSON-ready lists:

* `defs`: `[name, qualname, kind, start_line, end_line, params]`, outer before inner;
* `refs`: `[name, line, scope]`, in source order, `scope` being the index in `defs` of the
  innermost definition containing the call, or -1 at module level.
"""

from __future__ import annotations

import json

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]
from dataclasses import dataclass, field
from typing import Any

import tree_sitter

from tools.code_index.languages import compiled, spec

Captures = dict[str, list[tree_sitter.Node]]
_CLASS = "definition.class"
_FUNCTION = "definition.function"
_CALL = "reference.call"


@dataclass
class Facts:
    lines: int
    defs: list[list[Any]] = field(default_factory=list)
    refs: list[list[Any]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps([self.lines, self.defs, self.refs], separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Facts:
        lines, defs, refs = json.loads(text)
        return cls(lines, defs, refs)


def run_captures(query: tree_sitter.Query, node: tree_sitter.Node) -> Captures:
    """Captured nodes by capture name; the one place that knows the tree-sitter query API.

    0.25+ runs queries through `QueryCursor`; 0.23-0.24 had `Query.captures`.
    """
    cursor_type = getattr(tree_sitter, "QueryCursor", None)
    if cursor_type is not None:
        return dict(cursor_type(query).captures(node))
    return dict(query.captures(node))  # type: ignore[attr-defined]


def extract(language: str, source: bytes) -> Facts:
    """Definitions (with qualified names and line ranges) and calls of one file."""
    parser, query = compiled(language)
    captures = run_captures(query, parser.parse(source).root_node)
    classes = captures.get(_CLASS, [])
    definitions = [(node, True) for node in classes] + [
        (node, False) for node in captures.get(_FUNCTION, [])
    ]
    definitions.sort(key=lambda found: (found[0].start_byte, -found[0].end_byte))
    calls = [
        (node.start_byte, node.start_point[0] + 1, _text(node)) for node in captures.get(_CALL, [])
    ]
    calls.sort()
    facts = Facts(lines=source.count(b"\n") + (0 if source.endswith(b"\n") or not source else 1))
    facts.defs = _qualify(definitions, language)
    facts.refs = _scope_calls(calls, [node for node, _ in definitions])
    return facts


def extract_task(task: tuple[str, str, bytes]) -> tuple[str, int, int, str, int]:
    """Worker entry point: (key, language, source) -> (key, lines, symbols, facts as JSON,
    the peak resident memory of this process so far in KiB)."""
    key, language, source = task
    facts = extract(language, source)
    return key, facts.lines, len(facts.defs), facts.to_json(), _peak_kib()


def _peak_kib() -> int:
    if resource is None:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _qualify(definitions: list[tuple[tree_sitter.Node, bool]], language: str) -> list[list[Any]]:
    wrappers = spec(language).wrappers
    stack: list[tuple[int, str, bool]] = []  # (end byte, qualname, is class) of open definitions
    rows: list[list[Any]] = []
    for node, is_class in definitions:
        while stack and stack[-1][0] <= node.start_byte:
            stack.pop()
        name = _text(node.child_by_field_name("name"))
        receiver = _receiver(node)
        outer = receiver or (stack[-1][1] if stack else None)
        qualname = f"{outer}.{name}" if outer else name
        if is_class:
            kind = "class"
        elif receiver or (stack and stack[-1][2]):
            kind = "method"
        else:
            kind = "function"
        span = node.parent if node.parent is not None and node.parent.type in wrappers else node
        params = [] if is_class else _params(_parameters(node), language)
        if kind == "method" and language == "python" and params[:1] in (["self"], ["cls"]):
            params = params[1:]
        rows.append([name, qualname, kind, span.start_point[0] + 1, span.end_point[0] + 1, params])
        stack.append((node.end_byte, qualname, is_class))
    return rows


def _scope_calls(
    calls: list[tuple[int, int, str]], ordered: list[tree_sitter.Node]
) -> list[list[Any]]:
    """Each call with the index of its innermost enclosing definition (-1 for none)."""
    rows: list[list[Any]] = []
    stack: list[int] = []
    next_definition = 0
    for position, line, name in calls:
        while next_definition < len(ordered) and ordered[next_definition].start_byte <= position:
            start = ordered[next_definition].start_byte
            while stack and ordered[stack[-1]].end_byte <= start:
                stack.pop()
            stack.append(next_definition)
            next_definition += 1
        while stack and ordered[stack[-1]].end_byte <= position:
            stack.pop()
        rows.append([name, line, stack[-1] if stack else -1])
    return rows


def _parameters(node: tree_sitter.Node) -> tree_sitter.Node | None:
    value = node.child_by_field_name("value")  # a function assigned to a JavaScript variable
    holder = value if value is not None else node
    return holder.child_by_field_name("parameters") or holder.child_by_field_name("parameter")


def _receiver(node: tree_sitter.Node) -> str | None:
    """The type a Go method is declared on (`Store` for `func (s *Store[T]) Get()`)."""
    receiver = node.child_by_field_name("receiver")
    if receiver is None or not receiver.named_children:
        return None
    kind = receiver.named_children[0].child_by_field_name("type")
    while kind is not None and kind.type in ("pointer_type", "generic_type"):
        inner = kind.child_by_field_name("type")
        kind = inner if inner is not None else next(iter(kind.named_children), None)
    return _text(kind) if kind is not None and kind.type == "type_identifier" else None


def _text(node: tree_sitter.Node | None) -> str:
    return node.text.decode("utf-8", errors="replace") if node is not None and node.text else ""


def _params(parameters: tree_sitter.Node | None, language: str) -> list[str]:
    if parameters is None:
        return []
    if parameters.type == "identifier":  # a JavaScript arrow function's lone parameter
        return [_text(parameters)]
    if language == "python":
        return _python_params(parameters)
    names: list[str] = []
    for child in parameters.named_children:
        names.extend(_param_names(child))
    return names


def _param_names(node: tree_sitter.Node) -> list[str]:
    """Names bound by one parameter in JavaScript, TypeScript, Go or Java; none for patterns."""
    if node.type == "identifier":
        return [_text(node)]
    if node.type == "rest_pattern":
        return [f"...{name}" for child in node.named_children for name in _param_names(child)]
    if node.type == "assignment_pattern":
        return _param_names(node.child_by_field_name("left") or node)
    if node.type == "spread_parameter":  # Java varargs: `String... rest`
        declarator = next((c for c in node.named_children if c.type == "variable_declarator"), None)
        name = declarator.child_by_field_name("name") if declarator else None
        return [_text(name)] if name is not None else []
    names = node.children_by_field_name("name")
    if names:  # Go (`a, b int`), Java formal parameters
        return [_text(name) for name in names]
    pattern = node.child_by_field_name("pattern")  # TypeScript required/optional parameters
    return _param_names(pattern) if pattern is not None else []


def _python_params(parameters: tree_sitter.Node) -> list[str]:
    names = []
    for child in parameters.named_children:
        if child.type in ("identifier", "list_splat_pattern", "dictionary_splat_pattern"):
            names.append(_text(child))
        elif child.type in ("default_parameter", "typed_default_parameter"):
            names.append(_text(child.child_by_field_name("name")))
        elif child.type == "typed_parameter" and child.named_children:
            names.append(_text(child.named_children[0]))
    return names
