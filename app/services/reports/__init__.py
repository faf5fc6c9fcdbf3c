"""Reports: figures over many requests, added up in the database (no workflow is loaded)."""
