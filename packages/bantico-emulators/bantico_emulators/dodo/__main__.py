"""`python -m bantico_emulators.dodo`: the same as `bantico-emulators dodo`."""

import typer

from bantico_emulators.dodo.cli import serve

if __name__ == "__main__":
    typer.run(serve)
