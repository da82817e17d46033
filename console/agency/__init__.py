"""The agency's console: the home (workers, employers, placements, unlocks) and its screens and dialogs.

Importing the package registers the agency's home screen (``console.home.register_home``).
"""

from console.agency.home import AgencyConsoleHome
from console.agency.packages import PackagesScreen

__all__ = ["AgencyConsoleHome", "PackagesScreen"]
