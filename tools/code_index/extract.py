"""Facts of one source file: definitions and calls, from one run of the language's query.

Pure and light (tree-sitter only, no pydantic), so it runs in worker processes. Facts are plain
JSON-ready lists:

* `defs`: `[name, qualname, kind, start_line, end_line, params]`, outer before inner;
* `refs`: `[name, line, scope]`, in source order, `scope` being the index in `defs` of the
  innermost definition containing the call, or -1 at module level.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import tree_sitter

from tools.code_index.languages import compiled, spec

Match = dict[str, list[tree_sitter.Node]]
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


def run_matches(query: tree_sitter.Query, node: tree_sitter.Node) -> list[Match]:
    """The query's matches, captures by name; the one place that knows the query API.

    0.25+ runs queries through `QueryCursor`; 0.23-0.24 had `Query.matches`, whose capture
    values were single nodes in older releases.
    """
    cursor_type = getattr(tree_sitter, "QueryCursor", None)
    if cursor_type is not None:
        found = cursor_type(query).matches(node)
    else:
        found = query.matches(node)  # type: ignore[attr-defined]
    return [
        {name: nodes if isinstance(nodes, list) else [nodes] for name, nodes in captures.items()}
        for _, captures in found
    ]


def extract(language: str, source: bytes) -> Facts:
    """Definitions (with qualified names and line ranges) and calls of one file."""
    parser, query = compiled(language)
    tree = parser.parse(source)
    definitions: dict[tuple[int, int], _Definition] = {}
    calls: list[tuple[int, int, str]] = []
    for match in run_matches(query, tree.root_node):
        name_nodes = match.get("name")
        if not name_nodes:
            continue
        name = _text(name_nodes[0])
        if _CALL in match:
            calls.append((name_nodes[0].start_byte, name_nodes[0].start_point[0] + 1, name))
            continue
        node = (match.get(_CLASS) or match.get(_FUNCTION) or [None])[0]
        if node is None:
            continue
        scope = match.get("scope")
        definitions[(node.start_byte, node.end_byte)] = _Definition(
            node=node,
            name=name,
            is_class=_CLASS in match,
            receiver=_text(scope[0]) if scope else None,
            parameters=(match.get("parameters") or [None])[0],
        )
    ordered = sorted(definitions.values(), key=lambda d: (d.node.start_byte, -d.node.end_byte))
    facts = Facts(lines=source.count(b"\n") + (0 if source.endswith(b"\n") or not source else 1))
    facts.defs = _qualify(ordered, language)
    facts.refs = _scope_calls(sorted(calls), ordered)
    return facts


def extract_task(task: tuple[str, str, bytes]) -> tuple[str, int, int, str]:
    """Worker entry point: (key, language, source) -> (key, lines, symbols, facts as JSON)."""
    key, language, source = task
    facts = extract(language, source)
    return key, facts.lines, len(facts.defs), facts.to_json()


@dataclass
class _Definition:
    node: tree_sitter.Node
    name: str
    is_class: bool
    receiver: str | None
    parameters: tree_sitter.Node | None
    qualname: str = ""


def _qualify(ordered: list[_Definition], language: str) -> list[list[Any]]:
    wrappers = spec(language).wrappers
    stack: list[_Definition] = []
    rows: list[list[Any]] = []
    for definition in ordered:
        node = definition.node
        while stack and stack[-1].node.end_byte <= node.start_byte:
            stack.pop()
        parent = stack[-1] if stack else None
        outer = definition.receiver or (parent.qualname if parent else None)
        definition.qualname = f"{outer}.{definition.name}" if outer else definition.name
        if definition.is_class:
            kind = "class"
        elif definition.receiver or (parent is not None and parent.is_class):
            kind = "method"
        else:
            kind = "function"
        span = node.parent if node.parent is not None and node.parent.type in wrappers else node
        params = [] if definition.is_class else _params(definition.parameters, language)
        if kind == "method" and language == "python" and params[:1] in (["self"], ["cls"]):
            params = params[1:]
        rows.append(
            [
                definition.name,
                definition.qualname,
                kind,
                span.start_point[0] + 1,
                span.end_point[0] + 1,
                params,
            ]
        )
        stack.append(definition)
    return rows


def _scope_calls(calls: list[tuple[int, int, str]], ordered: list[_Definition]) -> list[list[Any]]:
    """Each call with the index of its innermost enclosing definition (-1 for none)."""
    rows: list[list[Any]] = []
    stack: list[int] = []
    next_definition = 0
    for position, line, name in calls:
        while (
            next_definition < len(ordered)
            and ordered[next_definition].node.start_byte <= position
        ):
            start = ordered[next_definition].node.start_byte
            while stack and ordered[stack[-1]].node.end_byte <= start:
                stack.pop()
            stack.append(next_definition)
            next_definition += 1
        while stack and ordered[stack[-1]].node.end_byte <= position:
            stack.pop()
        rows.append([name, line, stack[-1] if stack else -1])
    return rows


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
