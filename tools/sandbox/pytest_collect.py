"""A pytest plugin that writes the node ids pytest collected to the path in `FIXLOOP_COLLECTED`.

Loaded next to `pytest_report` for a `--collect-only` run, in the target's own interpreter: it
imports nothing from fixloop and keeps to Python 3.8 syntax and the hooks of old pytest.
"""

import json
import os


def pytest_collection_finish(session):
    path = os.environ.get("FIXLOOP_COLLECTED")
    if path:
        with open(path, "w", encoding="utf-8") as stream:
            json.dump([item.nodeid for item in session.items], stream)
