"""Drop-in layers for code written against other packages: ``retrace.compat.pyrevolve``
(checkpointing) and ``retrace.compat.pytams`` (pyTAMS model classes and inputs)."""
