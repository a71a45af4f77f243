"""Observability: dashboards (and, with the observability release, alarm routing) for endpoints."""

from .endpoint_dashboard import EndpointDashboard

__all__ = ["EndpointDashboard"]
