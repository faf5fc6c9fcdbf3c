"""The outbox: emails written as rows with the step that causes them, sent by the worker.

``render`` turns templates into both parts, ``queue`` writes rows, ``compose`` writes the
message of a row, ``deliver`` sends due rows, ``digest`` gathers the daily digest.
"""
