"""Shared utilities that know nothing of links, payments or reports: errors, ids, money, input
bounds and strict JSON, encryption of secrets, the hook registry, database leases and request
logging. Every layer may import them; they import nothing above `bantico.db`."""
