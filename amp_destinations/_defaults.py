"""The defaults a send runs with, which the engine uses and ``--help`` shows: a module
of their own, so that printing help imports no engine and no HTTP client."""

__all__ = ["DEFAULT_CONCURRENCY", "DEFAULT_SAMPLE", "DEFAULT_TIMEOUT", "MAX_SAMPLE"]

# Requests in flight. A run sends ~115 batches of 1,000 a second from one core, so
# keeping up takes about 115 x (seconds a request takes): 8 falls behind beyond ~70 ms
# a request, 24 keeps up to ~200 ms. A waiting batch holds ~0.8 MB, so 24 stays under
# 80 MB at any latency. Measured in benchmarks/README.md.
DEFAULT_CONCURRENCY = 24
# Seconds an HTTP request may take before it counts as a transport error and is retried.
DEFAULT_TIMEOUT = 30.0
# The rows a validation run sends as test events, unless told otherwise.
DEFAULT_SAMPLE = 100
# Test events are for a person to look at in the remote system's screens; a sample
# larger than this says nothing more about the input and only costs requests.
MAX_SAMPLE = 1000
