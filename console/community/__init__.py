"""The community manager's console (registered as the community kind's home).

- ``home``: events, charts, moderation queue, batches; event edit, cancel and export;
- ``people``: the member directory and member page (verify, suspend, merge with a code);
- ``checkin``: the door (check in, admit from the waitlist); ``search``: search every kind;
- ``inbox``: members' SMS threads and replies; ``events``: the event edit dialog.
"""

from console.community.checkin import CheckInScreen
from console.community.events import EditEventDialog
from console.community.home import CommunityHomeScreen
from console.community.inbox import InboxScreen, ThreadDialog
from console.community.people import DirectoryScreen, MemberPageScreen
from console.community.search import MemberSearchScreen

__all__ = ["CheckInScreen", "CommunityHomeScreen", "DirectoryScreen", "EditEventDialog", "InboxScreen",
           "MemberPageScreen", "MemberSearchScreen", "ThreadDialog"]
