"""The one exception type for mistakes a user can fix."""


class UserError(Exception):
    """A problem with the user's input: the message names the file, column or row and what was
    expected. Commands turn it into one line on stderr and exit code 2."""
