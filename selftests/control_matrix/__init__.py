"""The control matrix: every weakening the negative controls apply, run on its own against the
suite's smoke profile and its control's own selection, and which claims each made fail.

``record`` writes one result per control while ``./selftest controls`` runs in matrix mode;
``results`` reads a run's summary per claim; ``expectations`` maps a control to the claims
it must break; ``build`` turns results, definitions and the ledger into rows and scores;
``markdown`` writes (and reads back) ``docs/control-matrix.md``. ``tools/control-matrix``
drives them.
"""
