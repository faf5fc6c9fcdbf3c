"""Check uploaded diagrams before anything is stored: every problem, with file, element and line.

``unpack_upload`` turns what an administrator uploaded (a .bpmn with its .dmn files, or one
.zip of them) into files, refusing anything oversized or odd. ``check_upload`` runs every check
and returns a Report; it stores nothing, runs no diagram code and reads nothing a file points
at. The checks, in order:

1. hardened XML: no DOCTYPE or entities, no network, UTF-8, at most 5 MB a file;
2. the BPMN 2.0 schema (SpiffWorkflow's XSD) for .bpmn, the DMN namespace for .dmn;
3. SpiffWorkflow's own parse, after the Camunda Modeler normalisation the engine applies;
4. the app's rules (docs/DIAGRAMS.md): one executable process; forms the app can render;
   lanes and assignments that name people; scripts, conditions, DMN cells and timers that
   compile under the restricted evaluator; decisions, topics and templates that exist;
   elements the app runs; and warnings for missing layout, instructions and default flows;
5. the translations (.po) uploaded with it: readable, and listing the texts with none.
"""

from .check import check_upload
from .report import Finding, Report
from .texts import diagram_texts, translation_template, updated_translation
from .unpack import MAX_FILE_BYTES, MAX_ZIP_BYTES, UploadRefused, unpack_upload

__all__ = ["MAX_FILE_BYTES", "MAX_ZIP_BYTES", "Finding", "Report", "UploadRefused", "check_upload", "diagram_texts",
           "translation_template", "unpack_upload", "updated_translation"]
