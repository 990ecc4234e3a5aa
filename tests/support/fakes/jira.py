"""A fake Jira Server REST API (v2) for the `jira` library: issues, comments, a workflow.

Workflow: To Do -(In Review)-> In Review -(Done)-> Done -(Reopen)-> Reopened -(Done)-> Done.
JQL: the clauses JiraTracker writes, joined by AND: `project = "K"`, `labels = "L"`,
`statusCategory != Done`, and a trailing `ORDER BY created ASC`.
"""

from __future__ import annotations

import re
from typing import Any

from tests.support.fakes.http import FakeServer, Request

API = "/rest/api/2"
ISSUE = API + r"/issue/(?P<key>[A-Z]+-\d+)"
STATUSES = {
    "To Do": "new",
    "In Review": "indeterminate",
    "Done": "done",
    "Reopened": "indeterminate",
}
WORKFLOW = {
    "To Do": [("11", "In Review", "In Review"), ("31", "Done", "Done")],
    "In Review": [("31", "Done", "Done"), ("41", "Back to To Do", "To Do")],
    "Done": [("51", "Reopen", "Reopened")],
    "Reopened": [("11", "In Review", "In Review"), ("31", "Done", "Done")],
}


class FakeJira(FakeServer):
    def __init__(self, project: str = "OPS") -> None:
        self.project = project
        self.issues: dict[str, dict[str, Any]] = {}
        super().__init__(
            [
                ("GET", API + "/serverInfo", self._server_info),
                ("GET", API + r"/project/(?P<key>[A-Z]+)", self._project),
                ("GET", API + "/field", lambda request: (200, [])),
                ("POST", API + "/issue", self._create),
                ("GET", ISSUE, self._get),
                ("GET", API + "/search", self._search),
                ("GET", ISSUE + "/comment", self._comments),
                ("POST", ISSUE + "/comment", self._add_comment),
                ("GET", ISSUE + "/transitions", self._transitions),
                ("POST", ISSUE + "/transitions", self._transition),
            ]
        )

    def _server_info(self, request: Request) -> tuple[int, Any]:
        return 200, {
            "baseUrl": self.url,
            "version": "9.12.0",
            "versionNumbers": [9, 12, 0],
            "deploymentType": "Server",
        }

    def _project(self, request: Request, key: str) -> tuple[int, Any]:
        if key != self.project:
            return 404, {"errorMessages": [f"No project could be found with key '{key}'."]}
        return 200, {"key": key, "name": key}

    def _create(self, request: Request) -> tuple[int, Any]:
        fields = request.body["fields"]
        if fields["project"]["key"] != self.project:
            return 400, {"errors": {"project": "project is required"}}
        key = f"{self.project}-{len(self.issues) + 1}"
        self.issues[key] = {
            "summary": fields["summary"],
            "description": fields.get("description"),
            "labels": list(fields.get("labels", [])),
            "priority": (fields.get("priority") or {}).get("name"),
            "issuetype": fields["issuetype"]["name"],
            "status": "To Do",
            "comments": [],
        }
        return 201, {
            "id": str(len(self.issues)),
            "key": key,
            "self": f"{self.url}{API}/issue/{key}",
        }

    def _issue_json(self, key: str) -> dict[str, Any]:
        issue = self.issues[key]
        return {
            "id": key.split("-")[1],
            "key": key,
            "self": f"{self.url}{API}/issue/{key}",
            "fields": {
                "summary": issue["summary"],
                "description": issue["description"],
                "labels": issue["labels"],
                "priority": {"name": issue["priority"]} if issue["priority"] else None,
                "issuetype": {"name": issue["issuetype"]},
                "project": {"key": self.project},
                "status": {
                    "name": issue["status"],
                    "statusCategory": {"key": STATUSES[issue["status"]]},
                },
            },
        }

    def _get(self, request: Request, key: str) -> tuple[int, Any]:
        if key not in self.issues:
            return 404, {"errorMessages": ["Issue Does Not Exist"], "errors": {}}
        return 200, self._issue_json(key)

    def _search(self, request: Request) -> tuple[int, Any]:
        jql = (request.arg("jql") or "").split(" ORDER BY ")[0]
        found = [
            key
            for key in self.issues
            if all(_holds(c, self.issues[key], key) for c in jql.split(" AND "))
        ]
        start = int(request.arg("startAt") or 0)
        page = found[start : start + int(request.arg("maxResults") or 50)]
        return 200, {
            "startAt": start,
            "maxResults": len(page),
            "total": len(found),
            "issues": [self._issue_json(key) for key in page],
        }

    def _comments(self, request: Request, key: str) -> tuple[int, Any]:
        comments = self.issues[key]["comments"]
        return 200, {
            "startAt": 0,
            "maxResults": len(comments),
            "total": len(comments),
            "comments": comments,
        }

    def _add_comment(self, request: Request, key: str) -> tuple[int, Any]:
        comments = self.issues[key]["comments"]
        comment = {
            "id": str(len(comments) + 1),
            "body": request.body["body"],
            "self": f"{self.url}{API}/issue/{key}/comment/{len(comments) + 1}",
        }
        comments.append(comment)
        return 201, comment

    def _transitions(self, request: Request, key: str) -> tuple[int, Any]:
        return 200, {
            "transitions": [
                {"id": tid, "name": name, "to": {"name": to}}
                for tid, name, to in WORKFLOW[self.issues[key]["status"]]
            ]
        }

    def _transition(self, request: Request, key: str) -> tuple[int, Any]:
        issue = self.issues[key]
        wanted = str(request.body["transition"]["id"])
        target = next((to for tid, _, to in WORKFLOW[issue["status"]] if tid == wanted), None)
        if target is None:
            return 400, {"errorMessages": [f"transition {wanted} is not valid now"]}
        issue["status"] = target
        return 204, None


def _holds(clause: str, issue: dict[str, Any], key: str) -> bool:
    clause = clause.strip()
    if match := re.fullmatch(r'project = "([^"]+)"', clause):
        return key.startswith(match[1] + "-")
    if match := re.fullmatch(r'labels = "([^"]+)"', clause):
        return match[1] in issue["labels"]
    if clause == "statusCategory != Done":
        return STATUSES[issue["status"]] != "done"
    raise ValueError(f"the fake Jira does not read JQL clause {clause!r}")
