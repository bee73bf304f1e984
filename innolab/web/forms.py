"""Pieces shared by the forms of several blueprints."""
from __future__ import annotations

from wtforms import HiddenField

from ..domain.editing import version_of


class VersionField(HiddenField):
    """The version of the record the person started from (rendered by form.hidden_tag())."""

    def process_formdata(self, valuelist):
        try:
            self.data = int(valuelist[0]) if valuelist and valuelist[0] != "" else None
        except (TypeError, ValueError):
            self.data = None  # treated like a form without a version


class VersionedForm:
    """Mixin for the edit form of a versioned record (see domain.editing)."""

    version = VersionField()

    def start_from(self, record) -> None:
        """First display of the form: remember the version the person starts from."""
        self.version.data = version_of(record)

    @property
    def seen_version(self) -> int | None:
        return self.version.data

    def continue_from(self, conflict) -> None:
        """After an edit conflict: the next save deliberately replaces what is stored now."""
        self.version.data = conflict.version
