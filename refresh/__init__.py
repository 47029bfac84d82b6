"""The scheduled refresh job: new data in, models retrained, a new version published only if not worse."""
