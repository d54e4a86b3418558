"""Dashboard accounts: admins, login sessions, the first-run setup link and login limits."""
