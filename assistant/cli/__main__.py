"""`python -m assistant.cli` runs the `byline` command."""

from assistant.cli import main

main()
