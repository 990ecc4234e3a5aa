"""Root cause: frames to code, history, data flow, spectrum, reproduction, ranking, report."""
