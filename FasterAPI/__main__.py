"""``python -m FasterAPI`` is the ``fasterapi`` command."""

from FasterAPI.cli import main

raise SystemExit(main())
