"""Forms declared by diagrams: build, validate and display them (see docs/DIAGRAMS.md)."""

from .builder import build_form
from .checks import check_form_spec
from .convert import default_reference
from .display import display_value, masked_value, personal_kind
from .files import Upload
from .form import DynamicForm

__all__ = ["DynamicForm", "Upload", "build_form", "check_form_spec", "default_reference", "display_value",
           "masked_value", "personal_kind"]
