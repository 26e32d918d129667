"""Errors caused by the user's input. The CLI and the app turn them into one clear message, never a traceback."""


class UserInputError(Exception):
    """Bad input from the user: a missing or malformed file, an unknown drug, an invalid option."""
