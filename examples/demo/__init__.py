"""The demo API: ``scripts/demo`` serves ``examples.demo:app`` on http://127.0.0.1:8000/docs."""

from examples.demo.main import app

__all__ = ["app"]
