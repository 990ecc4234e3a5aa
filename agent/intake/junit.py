"""Read the failed and errored test cases of a JUnit XML report as reported test ids.

Every CI writes JUnit XML: pytest (`--junitxml`), unittest-xml-reporting, nose and nose2, and
test runners of other languages. A `<testcase>` with a `<failure>` or an `<error>` child is
reported; a passed or skipped one is not. The root is `<testsuites>` or a bare `<testsuite>`;
suites may nest. Each reported id is the case's `classname` and `name` joined by a dot
(`tests.test_mod.TestClass.test_x[1]`), which `agent.intake.test_ids` resolves against what
pytest collects; a case without `classname` is named by its `file` or its `name` alone.

The file is untrusted: a document type declaration or an entity declaration is refused before
parsing, so no entity is ever expanded and nothing outside the file is read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from agent.errors import IntakeError

ROOTS = ("testsuites", "testsuite")
_FAILED = ("failure", "error")
_REFUSED = ("<!DOCTYPE", "<!ENTITY")


def looks_like_xml(text: str) -> bool:
    return text.lstrip().startswith("<")


def failing_tests(raw: bytes, text: str) -> list[str]:
    """The ids of the failed and errored test cases of the report `raw` (decoded: `text`)."""
    for marker in _REFUSED:
        if marker in text:
            raise IntakeError(f"XML with a {marker[2:]} declaration is refused")
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        raise IntakeError(f"not well-formed XML ({exc})") from None
    if _local(root.tag) not in ROOTS:
        raise IntakeError(
            f"root element is <{_local(root.tag)}>, expected <testsuites> or <testsuite>"
        )
    cases = [element for element in root.iter() if _local(element.tag) == "testcase"]
    failed = [case for case in cases if any(_local(child.tag) in _FAILED for child in case)]
    if not failed:
        raise IntakeError(f"JUnit XML has no failed or errored test case ({len(cases)} cases)")
    ids = []
    for position, case in enumerate(failed, start=1):
        test_id = _case_id(case)
        if not test_id:
            raise IntakeError(f"failed test case {position} has no 'name'")
        ids.append(test_id)
    return list(dict.fromkeys(ids))


def _case_id(case: ElementTree.Element) -> str:
    name = (case.get("name") or "").strip()
    classname = (case.get("classname") or "").strip()
    if not name:
        return ""
    if classname:
        return f"{classname}.{name}"
    path = (case.get("file") or "").strip()
    return f"{path}::{name}" if path.endswith(".py") else name


def _local(tag: str) -> str:
    """A tag without its namespace: `{urn:x}testcase` gives `testcase`."""
    return tag.rsplit("}", 1)[-1]
