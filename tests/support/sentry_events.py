"""Real sentry-sdk events: code of a repository checkout crashes under the SDK in a subprocess.

The event is the JSON the SDK's transport would send (the envelope's event item), `_meta`
included, so tests see exactly what a reporter cuts and annotates.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

_CAPTURE = """\
import json, sys
import sentry_sdk
from sentry_sdk.transport import Transport


class Dump(Transport):
    def capture_envelope(self, envelope):
        for item in envelope.items:
            if item.type == "event":
                print(json.dumps(item.payload.json))


options = json.loads(sys.argv[3])
sentry_sdk.init(
    dsn="http://key@localhost/1", transport=Dump, default_integrations=False, **options
)
exec(sys.argv[1])
try:
    exec(sys.argv[2])
except Exception:
    sentry_sdk.capture_exception()
sentry_sdk.flush()
"""


def sentry_event(checkout: Path, setup: str, trigger: str, **options: Any) -> dict[str, Any]:
    """The event sentry-sdk reports when `trigger` raises, run in `checkout` after `setup`
    (imports); `options` go to `sentry_sdk.init` (for instance `max_value_length`)."""
    script = checkout.parent / f"capture-{checkout.name}.py"
    script.write_text(_CAPTURE)
    try:
        result = subprocess.run(
            [sys.executable, str(script), setup, trigger, json.dumps(options)],
            cwd=checkout,
            env={"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    finally:
        script.unlink()
    event: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return event
