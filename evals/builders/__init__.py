"""Builder scripts for the eval corpus: one module per application, each with a `CASES` list.

`python -m evals.builders [CASE_ID ...]` (re)builds the named cases, or all of them, into
`evals/cases/`. See `kit.py` for what a build checks and writes.
"""
