"""``unigrad compare``: run a case library on every backend and report where they agree.

The data path of one cell, module by module:

- ``case``: the case format and case files (``case_checks``: their fields); ``selection``:
  which cases a run uses (``loading``: each case file imported in a worker first, so that one
  that crashes, exits or hangs at import costs its own file); ``opcases``: the ops suite,
  each sample of the per-op table (``opinfo``, checked by ``opchecks``) as a case of its own
  kind; ``coverage``: the README's op x backend x order matrix, generated from that table;
- ``reference``: every cell on the numpy engine in float64, checked by finite differences, in
  a numpy worker of its own;
- ``runner``: one worker per backend, one ``invoke unigrad.compare.cells:run_case`` per case;
  the reference's worker beside them; Ctrl-C stops them all;
- ``cells``: inside the worker, each cell through ``unigrad.api.dispatch.apply`` (``native``:
  the framework's own op, with its own idiom);
- ``records``: ``CellResult`` (an ``Outcome``), ``Record`` (a ``Status``), ``counts_against``
  (the exit-code rule); ``oracle``: tolerances and comparisons; ``verdicts``: cell results
  judged into records;
- ``reports`` (``matrix``, ``agreement_md``, ``agreement_html``, ``repro``): the report files;
  ``escape``: case text made safe for each of them; ``html_page``: the pieces of the HTML page
  (shared with ``unigrad port``'s report).
"""
