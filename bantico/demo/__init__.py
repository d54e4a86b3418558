"""The demo: `bantico demo` serves Bantico beside an emulated Dodo Payments, with a made-up shop's
60 days of history (`history.generate_history`) to look around in."""
