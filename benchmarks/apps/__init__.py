"""One module per framework, each serving the same endpoints (see ``inprocess.ENDPOINTS``).

Every module exposes ``app`` (the ASGI callable) and ``NAME`` (the label in the tables).
"""
