"""Longest accepted strings (API.md); columns, forms and the API validator all read these."""

NAME = 100
ALIASES = 500
PHONE = 40
ADDRESS = 300
EMAIL = 254
TITLE = 200
TEXT = 5000
URL = 300
PASSWORD_MIN = 12
PASSWORD_MAX = 256
