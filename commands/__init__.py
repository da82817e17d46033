"""The `ofisi` command line (Typer): one root app, a sub-app per area.

Commands import the core, SQLAlchemy and Textual inside their bodies, so
`ofisi --help` and cron commands start fast. Every command turns an
:class:`~config.errors.OfisiError` into one line on stderr and exit 1.
"""
