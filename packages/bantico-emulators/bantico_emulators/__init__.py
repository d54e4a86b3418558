"""Local emulators of the payment providers Bantico talks to, for tests and demos: each speaks
its provider's HTTP API and sends its webhooks as the provider does, with test keys and fault
injection. `bantico_emulators.dodo` emulates Dodo Payments.

Written from each provider's published documentation and SDK, not from Bantico's needs, and
standalone: nothing here imports `bantico`. Not part of the `bantico` distribution."""
