"""The application for gunicorn (`gunicorn wsgi:app`) and `flask --app wsgi`."""

from ceasefire import create_app

app = create_app()
