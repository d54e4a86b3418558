"""`python -m bantico_emulators`: the same as `bantico-emulators`."""

from bantico_emulators.cli import app

if __name__ == "__main__":
    app()
