"""The unigrad.numpy ops namespace."""
