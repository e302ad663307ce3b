"""``python -m agentcost.cli``: the same as the ``agentcost`` command."""

from agentcost.cli import main

main()
