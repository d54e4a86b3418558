from bantico.cli import app

app()
