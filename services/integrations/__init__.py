"""Integrations with a hospital's identity estate (issue 20): API tokens (tokens.py) that act for an organisation or
one deployment, with a subset of their creator's permissions; the REST API, SCIM and webhooks build on them."""
