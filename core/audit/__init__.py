"""The audit trail: every change made through the app and every security or money event,
append-only and chained by hash (:mod:`.recorder`, :mod:`.chain`, :mod:`.models`), shown in
the UI (:mod:`.views`) and GraphQL (:mod:`.schema`), contributed by :mod:`.plugin`."""
