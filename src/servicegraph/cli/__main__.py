"""``python -m servicegraph.cli``."""

from servicegraph.cli import main

main()
