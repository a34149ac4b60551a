"""`python -m byline.cli` runs the `byline` command."""

from byline.cli import main

main()
