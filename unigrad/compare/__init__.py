"""``unigrad compare``: cases, cells, the oracle, the runner and the reports."""
