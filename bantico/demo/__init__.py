"""The demo: `bantico demo` serves Bantico beside an emulated Dodo Payments, with a made-up shop's
60 days of history (`history.generate_history`) to look around in.

The emulator comes from the `bantico-emulators` distribution (packages/bantico-emulators), which
only this package uses, and only once `bantico demo` runs: Bantico works without it."""
