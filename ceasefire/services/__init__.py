"""The verbs people perform. Each takes the actor, validates, changes records, writes history and audit
rows and flushes; the caller (a view, an API endpoint, a command) commits once."""
