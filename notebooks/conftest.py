"""nbval settings for the notebook tests (``make test`` runs them with ``--nbval-lax``)."""


def pytest_collection_modifyitems(items):
    """Wait up to 60 s for a cell's output messages after its reply (nbval's fixed 5 s): on a busy
    2-core machine they once trailed the reply of 04_cost's long cell by more than 5 s, and nbval
    failed the cell ("Timeout of 5 seconds exceeded waiting for output") though it had run."""
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = max(item.output_timeout, 60)
