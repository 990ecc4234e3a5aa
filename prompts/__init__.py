"""The words fixloop writes: Jinja templates, rendered strictly. See `agent.prompting`."""

from pathlib import Path

PROMPTS_DIR = Path(__file__).parent
