"""Models: the configuration, the label encoding and ``DDIModel`` wiring the ``ddi.nn`` blocks together."""
