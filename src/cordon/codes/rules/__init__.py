"""Pure health-code rules: the pack model, the per-person evaluator and the decision texts.

No I/O: the batch evaluator (``cordon.codes.batch``) and the service build on these.
"""
