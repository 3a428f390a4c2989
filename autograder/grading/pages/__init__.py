"""What people read: students' feedback pages and the instructor's class report.

feedback.py         safe feedback pages that stand alone (feedback_assets.py: MathML, sanitising)
report.py           the instructor's class report
status.py           each submission's standing; late.py: late penalties
"""
