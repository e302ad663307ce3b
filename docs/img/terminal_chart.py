"""Render `agentcost analyze sample_traces --chart` at 100 columns to an SVG for the README:
``TZ=UTC .venv/bin/python docs/img/terminal_chart.py docs/img/terminal-chart.svg``."""
import sys

from rich.console import Console

from agentcost.analysis import AnalyzeOptions, analyze
from agentcost.render import analyze_text, charts
from agentcost.table import load as load_traces

con = Console(record=True, width=100, force_terminal=True, color_system="truecolor")
table = load_traces(["sample_traces"])
rep = analyze(table, AnalyzeOptions())
analyze_text.render_console(rep, con)
charts.render_cost_chart(rep, con)
con.save_svg(sys.argv[1], title="agentcost analyze sample_traces --chart")
