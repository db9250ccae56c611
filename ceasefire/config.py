"""Settings, read from the environment so that one build runs in development, CI and production."""

from __future__ import annotations

import os
from pathlib import Path

from ceasefire import limits

DEFAULT_SECRET_KEY = "dev-only-change-me"  # noqa: S105 - the placeholder production refuses to start with
# How much of a SQLite database file each connection reads through the operating system's page cache (PRAGMA
# mmap_size) rather than its own 2 MB of pages (a search sorting thousands of matches looked each one up by id, and at
# 150,000 participants those lookups missed the small cache, 4 times slower). The pages mapped are the system's
# cache, shared by every worker, yet counted in each one's resident memory as it touches them: with 1 GB a process
# serving every page at 150,000 held 119 MB of its own and 174 MB of the file. 64 MB bounds that, and every page and
# the API list took the same time as with 1 GB (bench/README.md, 8789bcb).
DEFAULT_SQLITE_MMAP_BYTES = 64 << 20


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(Path(instance_path) / "ceasefire.sqlite")


def _roles(value: str) -> frozenset[str]:
    return frozenset(r.strip() for r in value.split(",") if r.strip())


def _max_content_length() -> int:
    return int(os.environ.get("MAX_CONTENT_LENGTH", str(limits.MAX_CONTENT_LENGTH)))


def from_environment(instance_path: str) -> dict:
    # Production unless told otherwise, so a forgotten setting fails safe (no default secret key).
    env = os.environ.get("CEASEFIRE_ENV", "production")
    return {
        "ENV_NAME": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL", "memory://"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "SQLITE_MMAP_BYTES": int(os.environ.get("SQLITE_MMAP_BYTES", str(DEFAULT_SQLITE_MMAP_BYTES))),
        # Pages show times, and forms read them, in the program's own time zone (an IANA name).
        "TIMEZONE": os.environ.get("TIMEZONE", "UTC"),
        "WTF_CSRF_TIME_LIMIT": None,
        # argon2 parameters; the tests lower them, production keeps the library defaults.
        "ARGON2_TIME_COST": int(os.environ.get("ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_COST": int(os.environ.get("ARGON2_MEMORY_COST", "65536")),
        "PROVIDER_CLOSED_REFERRAL_DAYS": 90,
        # Due process (28 CFR Part 23): a participant's file is reviewed at most this many days after identification
        # or the last review that kept it (five years by default). The letters carry the program's name and address.
        "REVIEW_PERIOD_DAYS": int(os.environ.get("REVIEW_PERIOD_DAYS", "1826")),
        "PROGRAM_NAME": os.environ.get("PROGRAM_NAME", "Project Ceasefire"),
        "PROGRAM_ADDRESS": os.environ.get("PROGRAM_ADDRESS", ""),
        "PROGRAM_CONTACT": os.environ.get("PROGRAM_CONTACT", ""),
        # Sign-in and sessions (CJIS: at most 5 tries, a lockout of at least 10 minutes, 30 minutes idle).
        "LOCKOUT_THRESHOLD": int(os.environ.get("LOCKOUT_THRESHOLD", "5")),
        "LOCKOUT_MINUTES": int(os.environ.get("LOCKOUT_MINUTES", "15")),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;100 per hour"),
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", "30")),
        "SESSION_MAX_HOURS": int(os.environ.get("SESSION_MAX_HOURS", "12")),
        # Sessions live on the server (Flask-Session): in the database, or in Redis when this is set. The cookie holds
        # a random id alone and lasts as long as the browser; nothing is written for a request that changes nothing.
        "SESSION_REDIS_URL": os.environ.get("SESSION_REDIS_URL", os.environ.get("REDIS_URL")),
        "SESSION_KEY_PREFIX": os.environ.get("SESSION_KEY_PREFIX", "session:"),
        "SESSION_REFRESH_EACH_REQUEST": False,
        "MFA_REQUIRED_ROLES": _roles(os.environ.get("MFA_REQUIRED_ROLES", "police,supervisor,admin")),
        "MFA_ISSUER": os.environ.get("MFA_ISSUER", "ceasefire"),
        # The largest request body (413 beyond it); a single form field may be as large.
        "MAX_CONTENT_LENGTH": _max_content_length(),
        "MAX_FORM_MEMORY_SIZE": _max_content_length(),
    }


def check_production_safe(config: dict) -> None:
    """Refuse to run outside development and tests with a missing or placeholder secret key."""
    if config.get("ENV_NAME") in {"development", "testing"} or config.get("TESTING"):
        return
    key = config.get("SECRET_KEY")
    if not key or key == DEFAULT_SECRET_KEY or len(key) < 16:
        raise RuntimeError(
            "SECRET_KEY is missing or is the development default; set a long random SECRET_KEY "
            "in the environment before starting ceasefire in production."
        )


def check_timezone(config: dict) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(config["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        raise RuntimeError(
            f"TIMEZONE={config['TIMEZONE']!r} is not a time zone; use an IANA name such as America/Chicago."
        ) from None
