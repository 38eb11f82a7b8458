"""The one error a benchmark run raises when it cannot measure something."""

from __future__ import annotations


class BenchError(RuntimeError):
    """A part of the benchmark could not run (a child failed, a server never came up, ...)."""
