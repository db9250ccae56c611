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
ID_MAX = 2**31 - 1  # the largest id an INTEGER column holds on every database
MAX_CONTENT_LENGTH = 1024 * 1024  # the largest request body, unless MAX_CONTENT_LENGTH says otherwise
