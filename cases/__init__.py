"""The case library that ships with unigrad: every derivative in the seed notebooks, and more."""
