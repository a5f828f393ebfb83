"""``python -m chatdesk``: the same as the ``chatdesk`` command."""

from chatdesk.cli import main

raise SystemExit(main())
