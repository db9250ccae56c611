"""The application for gunicorn (`gunicorn wsgi:app`) and `flask --app wsgi`."""

import gc

from ceasefire import create_app

app = create_app()
# What the app holds for its whole life (modules, mappers, compiled statements, templates) is set aside from the
# garbage collector's full collections, which otherwise walk all of it again and again while a request builds many
# objects: the cohort report's 23,271 rows at a million participants took 174 ms to build, 92 ms after this.
gc.freeze()
