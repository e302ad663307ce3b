"""Renderers: turn a report object into text. They never parse input or compute metrics."""
