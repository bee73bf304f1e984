"""Entry point for gunicorn and `flask --app wsgi`."""
from innolab import create_app

app = create_app()
