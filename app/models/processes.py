"""Process definitions and their immutable, uploaded versions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model

from .base import UTCDateTime, utcnow


class ProcessDefinition(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")

    versions: Mapped[list[ProcessVersion]] = relationship(
        back_populates="definition", order_by="ProcessVersion.number"
    )

    @property
    def active_version(self) -> ProcessVersion | None:
        return next((v for v in self.versions if v.active), None)


class ProcessVersion(Model):
    """One uploaded set of files (a .bpmn and its .dmn tables). Never changed once stored."""

    # Named: the convention would give both the same name, which PostgreSQL refuses.
    __table_args__ = (UniqueConstraint("definition_id", "number", name="uq_process_version_number"),
                      UniqueConstraint("definition_id", "sha256", name="uq_process_version_sha256"))

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    number: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    files: Mapped[dict] = mapped_column(JSON, deferred=True)  # {file name: XML text}; read on a cache miss
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    definition: Mapped[ProcessDefinition] = relationship(back_populates="versions")
