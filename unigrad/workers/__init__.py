"""Backend workers: a backend in its own process, reached by requests over a pipe.

``client`` starts and talks to a worker, ``server`` is the worker process itself, ``wire`` is
their message format, and ``interpreters`` finds the Python of a backend's own environment.
"""
