"""Due dates and late penalties, set in one place: the course config (nbgrader_config.py).

    c.Semester.due_dates = {"convolution": "2027-03-01 23:59:00 Europe/Berlin"}
    c.AssignLatePenalties.plugin_class = "autograder.grading.pages.late.LatePenalty"
    c.LatePenalty.percent_per_day = 10     # of the notebook's score, per started day late
    c.LatePenalty.max_percent = 100
    c.LatePenalty.grace_minutes = 5

`make release` and `make grade` write the due dates into the gradebook
(`apply_due_dates`); nbgrader's AssignLatePenalties then asks `LatePenalty`
for every notebook submitted after its assignment's due date. A submission's
time is nbgrader's `timestamp.txt` (written by `nbgrader submit`, kept by
`nbgrader collect`); a notebook placed in submitted/ by hand without one is
never late. The penalty is computed when the notebook is autograded, from its
score then: regrade (`make grade STUDENTS=... ASSIGNMENTS=...`) after manual
grading to recompute it.
"""
from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

DAY = 86400.0


class LatePenalty(LateSubmissionPlugin):
    """A percentage of the notebook's score per started day late, capped; nothing within the grace period."""

    percent_per_day = Float(0.0, help="percent of the notebook's score taken per started day late").tag(config=True)
    max_percent = Float(100.0, help="the most a late notebook can lose, in percent of its score").tag(config=True)
    grace_minutes = Float(0.0, help="minutes after the due date that still count as on time").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        """Points to take from `score` (nbgrader subtracts them from the notebook's total)."""
        if self.penalty_method == "zero":  # nbgrader's own setting still works
            return score
        if total_seconds_late <= self.grace_minutes * 60:
            return 0.0
        days = math.ceil(total_seconds_late / DAY)
        percent = min(self.max_percent, self.percent_per_day * days)
        return round(score * percent / 100.0, 6)


def due_dates(config):
    """{assignment: due date as naive UTC datetime} from c.Semester.due_dates."""
    from nbgrader.utils import parse_utc
    raw = config.Semester.due_dates if "due_dates" in config.Semester else {}
    return {str(a): parse_utc(str(when)) for a, when in dict(raw).items()}


def apply_due_dates(course, assignments=None):
    """Write the configured due dates into the gradebook; returns the lines saying what was set."""
    dates = due_dates(course.config)
    lines = []
    with course.gradebook() as gb:
        for name, due in sorted(dates.items()):
            if assignments is not None and name not in assignments:
                continue
            gb.update_or_create_assignment(name, duedate=due)
            lines.append(f"{name}: due {due:%Y-%m-%d %H:%M:%S} UTC")
    return lines
