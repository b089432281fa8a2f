"""Organisations: organisations and deployments, the directory of what an actor may see, and staff."""
