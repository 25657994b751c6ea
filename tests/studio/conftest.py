"""The real Label Studio server fixture (``studio_server``) lives in tests/conftest.py, shared with tests/ui."""
