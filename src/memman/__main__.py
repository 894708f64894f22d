"""``python -m memman`` runs the CLI."""
from memman.cli.main import main

main()
