"""The load benchmark (``make bench-load``): gunicorn, PostgreSQL, a worker and many people at once."""
