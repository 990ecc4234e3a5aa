"""The demo: a small sample service with a real bug, and a way to make it crash for real.

`build_demo_repo` creates the service's git repo; `trigger_incident` runs it with sentry-sdk
pointed at a DSN and sends the request that crashes it.
"""

from agent.demo.sample_repo import BUG_COMMIT_MESSAGE, CRASH_PATH, build_demo_repo
from agent.demo.trigger import trigger_incident

__all__ = ["BUG_COMMIT_MESSAGE", "CRASH_PATH", "build_demo_repo", "trigger_incident"]
