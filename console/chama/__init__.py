"""The chama office in the console (registered as the chama kind's home).

- ``home``: the pool, arrears, the contributions chart and the loans waiting for an official;
- ``members``: the member list and each member task (add, edit, fine, repayment, SMS, exit);
- ``payment``: recording a contribution; ``statement``: one member's statement;
- ``meetings``: schedule, attendance, minutes; ``shareout``: preview and commit;
- ``payouts``: request, approve, reject, pay; ``ledger``: entries and reversals;
- ``review``: M-Pesa payments kept for review; ``settings``: the chama's rules.
"""

from console.chama.home import ChamaOffice
from console.chama.meetings import AttendanceModal, MeetingsScreen, MinutesModal, ScheduleMeetingModal
from console.chama.ledger import LedgerScreen
from console.chama.members import MembersScreen, MemberForm, MoneyForm
from console.chama.payment import RecordPaymentModal
from console.chama.payouts import PayoutsScreen
from console.chama.review import MpesaReviewScreen
from console.chama.settings import SettingsScreen
from console.chama.shareout import ShareoutModal
from console.chama.statement import StatementModal

__all__ = ["AttendanceModal", "ChamaOffice", "LedgerScreen", "MeetingsScreen", "MemberForm", "MembersScreen",
           "MinutesModal", "MoneyForm", "MpesaReviewScreen", "PayoutsScreen", "RecordPaymentModal",
           "ScheduleMeetingModal", "SettingsScreen", "ShareoutModal", "StatementModal"]
