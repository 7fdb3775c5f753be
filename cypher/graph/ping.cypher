// Readiness: answers when the database is up.
RETURN 1 AS ok
