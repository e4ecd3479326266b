"""Studies run by ``mtj-kwant study NAME`` (see :mod:`mtj_kwant.study`).

Each module answers one question of the model paper with the public API of
:mod:`mtj_kwant` only (no physics here) and writes figures, data and
provenance through the :class:`~mtj_kwant.study.StudyContext` it is given.
"""
