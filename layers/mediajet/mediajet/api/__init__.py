"""The Jobs API on Powertools' resolver: routes, auth, idempotency, pagination, errors."""
