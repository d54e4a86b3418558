"""The dashboard: server-rendered pages under `/app`, plus `/`, `/setup`, `/login`, `/logout`.

`bantico.dashboard.mount.add_dashboard(app)` wires it into the app; bantico/dashboard/README.md
explains how to add a page. Importing this package loads nothing else (its models are imported
with every table, without any route).
"""
