"""The adapter: the reference engine's, with its ops from ``unigrad_buggy.ops``."""

from unigrad.backends.numpy.backend import NumpyBackend


class BuggyBackend(NumpyBackend):
    namespace = "unigrad_buggy.ops"
