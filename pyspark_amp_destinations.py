"""Spark finds ``format("amp-destinations")`` here, with no ``register`` call.

PySpark 4 looks through the importable top-level modules whose names start with
``pyspark_`` for a ``DefaultSource`` data source, the first time a session uses a
Python data source, and registers each under its ``name()``. This module is that
entry: the data source itself is ``amp_destinations.spark.AmpDestinationsSource``.
"""

from amp_destinations.spark import AmpDestinationsSource as DefaultSource

__all__ = ["DefaultSource"]
