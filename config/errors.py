"""The root of every error a person is meant to read.

Front ends catch :class:`OfisiError` and show its message (a notice in the
console, an ``END`` screen on USSD, one line on stderr in the CLI); anything
else is a bug and is logged, never shown as a traceback.
"""


class OfisiError(Exception):
    """An error whose message says what went wrong and what to do about it."""

    exit_code = 1
