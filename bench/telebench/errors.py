"""The one error type the suite raises for a run that cannot produce a figure."""


class BenchError(Exception):
    """A router or the load generator failed; the message says which and why."""
