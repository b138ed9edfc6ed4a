"""The conformance suite: ``pytest --pyargs unigrad.conformance --unigrad-backends all``.

Every case in the case library becomes tests, one per case x transform x backend x dtype,
judged by the same oracle as ``unigrad compare``.
"""
