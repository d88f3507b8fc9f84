"""Schemas of every event and command, the envelope and subject names.

This package imports nothing of ours: every service and the gateway share it.
"""
