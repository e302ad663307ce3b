"""Command modules beyond ``analyze``/``rules``. Each exposes ``register(app)`` and imports only
typer at module level (heavy imports happen inside the command body), so ``--help`` stays fast."""

COMMAND_MODULES = ("audit", "simulate", "check", "report")
