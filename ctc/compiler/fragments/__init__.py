"""One SQL fragment of a spec, by concern: parsing (:mod:`.parse`), checking (:mod:`.allowed`,
:mod:`.bounds`), typing (:mod:`.kinds`, :mod:`.infer_type`) and rewriting (:mod:`.rewrite`).

:func:`ctc.compiler.expressions.check_fragment` runs them in that order.
"""
