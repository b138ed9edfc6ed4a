"""The API: the transforms, the backend switch, and what they need (settings, array helpers).

``unigrad/__init__.py`` re-exports the public names; import them from ``unigrad``.
"""
