"""The staff console: a Textual app over the core services.

``console.app.run_console`` opens the database and runs :class:`console.app.OfisiApp`.
The console owns screens, widgets, key bindings and styles; every read and
write goes through a ``core`` service called from a thread worker, and the
console never runs SQL of its own. Area packages add panels to an org kind's
home screen through ``console.home.register_home``.
"""
