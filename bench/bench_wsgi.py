"""The app as bench/load.py serves it: production settings from the environment, and staff
who sign in without enrolling a second factor (the benchmark's coordinator has none)."""
from innolab import create_app

app = create_app({"MFA_ENFORCE_ENROLMENT": False})
