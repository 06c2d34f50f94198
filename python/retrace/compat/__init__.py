"""Drop-in layers for code written against other checkpointing packages
(``retrace.compat.pyrevolve``)."""
