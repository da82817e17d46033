"""The domain: every rule of Ofisi lives here, once.

Services are plain functions that take a ``Session`` (the unit of work) and an
:class:`core.actors.Actor`, check permission with :func:`core.permissions.require`,
and return plain dataclasses, never ORM objects bound to a session. Imports
``db`` and ``config`` only; never a front end.
"""
