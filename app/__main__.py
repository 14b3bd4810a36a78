"""`python -m app` is the `jimoku` command."""

from app.cli import main

main()
