"""The one exception type a user should ever see from this package."""


class UserError(Exception):
    """Bad input from the user (a path, an option, a data set): the message says what to do.

    Command-line entry points print the message and exit with status 2 instead of a traceback.
    """
