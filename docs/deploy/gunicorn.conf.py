"""gunicorn with uvicorn workers: ``gunicorn -c docs/deploy/gunicorn.conf.py examples.demo:app``.

Needs ``pip install gunicorn uvicorn-worker``. gunicorn supervises the worker processes
(restarts one that dies, reloads on SIGHUP); each worker runs the app on uvicorn (ASGI).
``fasterapi run --workers N`` does the same with Granian and fewer moving parts.
"""

import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(os.cpu_count() or 1)))
worker_class = "uvicorn_worker.UvicornWorker"
graceful_timeout = 30  # seconds a worker gets to finish requests on SIGTERM
timeout = 60  # a worker silent for this long is restarted
keepalive = 5
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
