"""Warden: a cost and health watchdog for containerised apps on AWS App Runner."""

__version__ = "0.1.0"
