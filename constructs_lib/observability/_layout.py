"""The grid of the library's CloudWatch dashboards and the sizes of their widgets, defined once.

A dashboard body lays widgets on a grid 24 units wide; a widget's ``width`` is 1-24 grid units
(CloudWatch API Reference, "Dashboard Body Structure and Syntax").
"""

from __future__ import annotations

FULL_WIDTH = 24  # a widget across the whole grid: headers, alarm status rows
WIDTH = 8  # a graph: three side by side
HEIGHT = 6  # a graph's height on the endpoint, cluster and training dashboards
OVERVIEW_HEIGHT = 5  # the platform overview's graphs: one row per endpoint, more rows on one screen
