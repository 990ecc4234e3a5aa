"""How tests run the real sandbox: pytest without the outer plugins, in each mode that works."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from tools.sandbox import bwrap_problem

# The outer environment autoloads heavy pytest plugins; the target repos here need none of them.
FAST = [arg for ep in entry_points(group="pytest11") for arg in ("-p", f"no:{ep.name}")]
needs_bwrap = pytest.mark.skipif(bwrap_problem() is not None, reason="bubblewrap does not work")
MODES = [pytest.param("bwrap", marks=needs_bwrap), "subprocess"]
