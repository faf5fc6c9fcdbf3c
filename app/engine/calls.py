"""A calling process together with the processes it calls: one model to run and to show.

A request whose process has call activities runs the called processes inside its own
workflow, as SpiffWorkflow runs them: the called specs (and their embedded subprocesses) join
the caller's ``subprocess_specs``. The user tasks of a called process join the caller's
``tasks`` under ``<process id>:<task id>``, named "<task> (<called process>)", so task rows,
forms, lanes and e-mails work for them as for the caller's own. Which stored versions are
combined is decided when a request starts (``app.services.versions.calls``) and kept on it.
"""

from __future__ import annotations

from dataclasses import replace

from .parser import ProcessModel
from .reading import DiagramError

MAX_NAME = 200  # human_task.name


def combine(parent: ProcessModel, called: list[ProcessModel]) -> ProcessModel:
    """``parent`` with ``called`` (every process it calls, directly or not; one version each)."""
    specs = dict(parent.subprocess_specs)
    owners = {parent.spec.name: parent.process_id, **{key: parent.process_id for key in specs}}
    tasks = dict(parent.tasks)
    topics = dict(parent.service_topics)
    for model in called:
        if model.process_id == parent.process_id:
            raise DiagramError(f"“{parent.name}” calls itself")
        for key, spec in {model.process_id: model.spec, **model.subprocess_specs}.items():
            if key in specs or key == parent.spec.name:
                raise DiagramError(f"“{model.name}” and the process calling it both use the id {key}: "
                                   "rename one of the subprocesses")
            specs[key] = spec
            owners[key] = model.process_id
        for bpmn_id, task in model.tasks.items():
            key = f"{model.process_id}:{bpmn_id}"
            tasks[key] = replace(task, bpmn_id=key, name=f"{task.name} ({model.name})"[:MAX_NAME])
        topics.update({f"{model.process_id}:{bpmn_id}": topic for bpmn_id, topic in model.service_topics.items()})
    missing = sorted({ref.process_id for m in (parent, *called) for ref in m.calls} - set(specs))
    if missing:
        raise DiagramError(f"“{parent.name}” calls {', '.join(missing)}, which no version given provides")
    return replace(parent, subprocess_specs=specs, tasks=tasks, service_topics=topics, owners=owners,
                   called={model.process_id: model for model in called})
