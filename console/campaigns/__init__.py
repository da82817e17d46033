"""The campaign office's console: the campaigns home, the new-campaign form, the launch
confirmation and the templates screen.

Importing the package registers the campaigns kind's home screen.
"""

from console.campaigns.home import CampaignsHome, NewCampaignScreen

__all__ = ["CampaignsHome", "NewCampaignScreen"]
