"""The Flask REST API (application factory with blueprints)."""
