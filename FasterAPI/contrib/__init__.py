"""Integrations behind extras; import the submodule you need (nothing is imported here).

- ``FasterAPI.contrib.sqlalchemy``: async SQLAlchemy sessions as a dependency
  (``pip install 'FasterAPI[sqlalchemy]'``);
- ``FasterAPI.contrib.structlog``: structured logging and a per-request log context
  (``pip install 'FasterAPI[structlog]'``).
"""
