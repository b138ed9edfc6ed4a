"""Backend workers: a backend in its own process, reached by requests over a pipe.

``client`` starts and talks to a worker, ``server`` is the worker process itself (two requests:
``ping`` and ``invoke`` a function by import path), ``wire`` is their message format,
``targets`` finds functions by import path (and runs ``client.call``'s transforms), and
``interpreters`` finds the Python of a backend's own environment.
"""
