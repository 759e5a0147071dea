"""The main job's report (report.html): html builds it, figures draws its plots."""

from sei_net.report.html import write_report

__all__ = ["write_report"]
