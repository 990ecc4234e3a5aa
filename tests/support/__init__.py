"""What more than one test module needs: builders, fakes, signed requests, payloads, paths.

Test modules import from here, never from each other or from `conftest.py`; `conftest.py` holds
only pytest fixtures.
"""
