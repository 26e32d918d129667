"""The ``ddi`` console script: one subcommand per module, each a thin shell over the library."""
