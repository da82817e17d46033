"""The console's shell: what surrounds every org's screens.

- ``sign_in``: the sign-in screen (password, then a code when the second factor is on);
- ``org_switcher``: choosing one of several organisations (ctrl+o);
- ``palette``: the command palette's provider of the current screen's actions;
- ``notices``: the panel of this session's notices (ctrl+n), in the org's time zone;
- ``remembered``: what the console remembers between runs (the last sign-in email, the theme).

``console.app.OfisiApp`` puts these together; the shell never imports the app.
"""
