"""Backend adapters, one folder per framework with the same file names in each.

Installed, this folder is the package ``unigrad.backends``. Each ``<name>/__init__.py`` holds a
light ``SPEC`` (read without importing the framework); ``<name>/backend.py`` holds the adapter
class and imports the framework; ``<name>/ops.py`` holds its table of ops.
"""
