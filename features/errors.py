"""The one exception type for mistakes a user can fix."""


class UserError(Exception):
    """A problem with the user's input: the message names the file, column or row and what was
    expected. Commands turn it into one line on stderr and exit code 2."""


def first_line(error: BaseException) -> str:
    """A library error's first line, for a one-line message (its type when it says nothing)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
