"""``attendance_recorded`` is sent inside the transaction that creates or corrects an attendance record, so what
listens to it (the absence policy in worklist, billable days in billing) commits or rolls back with the record.

Arguments: ``record`` (the AttendanceRecord as saved), ``previous`` (a dict of its fields before the change, or None
when it was just created) and ``acting_user``. Receivers must not commit on their own.
"""

from django.dispatch import Signal

attendance_recorded = Signal()
