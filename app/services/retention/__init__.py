"""Personal data over time: how long each process keeps it (``periods``), the purge of what is
due and its preview (``purge``), legal holds (``holds``), erasing a person (``erasure``).

Import the modules themselves: the upload checks read ``periods`` while the versions package
is loading, and ``holds`` reaches back to it through the monitoring actions.
"""
