"""The hot ingestion path: the raw-ASGI fast path for redirects and `/api/collect`, group
commit (many requests, one transaction), writes queued to run in a later transaction, and the
in-memory copies of links and projects with the functions that make them stale everywhere
(`caches.forget_links`, `caches.forget_projects`). Importing this package loads nothing."""
