"""The payment providers Bantico attributes payments from, by the name stored in each record's
`provider` column (bantico/integrations/provider.py says what each one implements)."""

from __future__ import annotations

from bantico.integrations.dodo.provider import DODO
from bantico.integrations.provider import PaymentProvider

PROVIDERS: dict[str, PaymentProvider] = {provider.name: provider for provider in (DODO,)}
