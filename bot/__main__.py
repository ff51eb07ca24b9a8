"""`python -m bot` is the same as the `coachbot` command."""

from bot.cli import main

raise SystemExit(main())
