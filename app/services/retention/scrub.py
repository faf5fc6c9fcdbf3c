"""Personal data taken out of stored values: form data, history rows, the saved workflow.

One walk serves them all: the value of a personal field (by its id, wherever it is nested)
becomes None, a file field's list of attachments becomes empty, and the names and email
addresses of the people concerned become their pseudonyms in every text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

DATA_KEYS = ("data", "internal_data")  # where a saved workflow keeps the values of a request


@dataclass
class Scrub:
    personal: set[str]  # ids of fields whose values go
    files: set[str]  # ids of file fields, whose attachments go
    texts: dict[str, str] = field(default_factory=dict)  # a person's name or email -> the pseudonym's
    removed: int = 0  # how many values went, for the history's line

    def _pattern(self) -> re.Pattern[str] | None:
        words = sorted((t for t in self.texts if t), key=len, reverse=True)
        return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE) if words else None

    def text(self, value: str) -> str:
        pattern = self._pattern()
        if pattern is None:
            return value
        lowered = {k.lower(): v for k, v in self.texts.items()}
        return pattern.sub(lambda m: lowered[m.group(0).lower()], value)

    def value(self, value: Any) -> Any:
        """``value`` with its personal data taken out (a new value; ``value`` is not changed)."""
        if isinstance(value, dict):
            return {key: self._item(key, item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def _item(self, key: Any, item: Any) -> Any:
        if key in self.files and isinstance(item, list):
            if item:
                self.removed += 1
            return []
        if key in self.personal and not isinstance(item, (dict, list)):
            if item not in (None, ""):
                self.removed += 1
            return None
        return self.value(item)

    def state(self, saved: str) -> str:
        """The saved workflow (JSON text) with the data of the workflow and of each of its tasks
        scrubbed the same way; its own structure (ids, names of steps) is left as it is."""
        return json.dumps(self._in_data(json.loads(saved)), separators=(",", ":")) if saved else saved

    def _in_data(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self.value(item) if key in DATA_KEYS and isinstance(item, dict) else self._in_data(item)
                    for key, item in value.items()}
        if isinstance(value, list):
            return [self._in_data(item) for item in value]
        return value
