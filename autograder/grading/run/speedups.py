"""A grading worker's CPU savings inside nbgrader that change nothing it writes (issue 20 item 6).

Installed by `Worker` when it grades fast (one call each); like patches.py's, each checks the pinned
versions first, is idempotent, and is listed in patches.py's docstring with the other overrides.

- `cache_metadata_schema`: nbgrader checks the nbgrader metadata of every cell
  (CheckCellMetadata, and again when it reads the notebook) with
  `jsonschema.validate`, which first checks the schema itself against JSON
  Schema's meta-schema and builds a new validator: ~0.3 ms per cell, ~13 ms per
  notebook, twice. Here the schema is checked and its validator built once per
  process (again whenever a validator's schema differs from the one kept); each
  cell's metadata is still validated in full, and invalid metadata raises the
  error `jsonschema.validate` raises (`best_match` of the same errors).
"""
from __future__ import annotations

import copy

from .patches import check_versions

_KEPT = {}  # schema_version: (the schema, its validator)


def _validate(instance, schema, version):
    """jsonschema.validate(instance, schema), with the schema's own check and the validator kept."""
    from jsonschema import exceptions, validators
    kept = _KEPT.get(version)
    if kept is None or kept[0] != schema:
        own = copy.deepcopy(schema)  # the validator's own copy: a change to the caller's is seen as a new schema
        cls = validators.validator_for(own)
        cls.check_schema(own)  # raises SchemaError as jsonschema.validate does; nothing is kept then
        kept = _KEPT[version] = (own, cls(own))
    error = exceptions.best_match(kept[1].iter_errors(instance))
    if error is not None:
        raise error


def cache_metadata_schema():
    """nbgrader's BaseMetadataValidator.validate_cell with the schema checked once per process (idempotent)."""
    check_versions()
    from nbgrader.nbgraderformat import common
    if getattr(common.BaseMetadataValidator, "_btc_kept_schema", None) is not None:
        return
    original = common.BaseMetadataValidator.validate_cell

    def validate_cell(self, cell):  # nbgrader 0.9.6's, its last line _validate instead of jsonschema.validate
        if "nbgrader" not in cell.metadata:
            return
        schema = cell.metadata["nbgrader"].get("schema_version", 0)
        if schema < self.schema_version:
            raise common.SchemaTooOldError(
                "Outdated schema version: {} (expected {})".format(schema, self.schema_version),
                schema, self.schema_version)
        elif schema > self.schema_version:
            raise common.SchemaTooNewError(
                "Schema version is too new: {} (expected {})".format(schema, self.schema_version),
                schema, self.schema_version)
        _validate(cell.metadata["nbgrader"], self.schema, self.schema_version)

    validate_cell.__wrapped__ = original
    common.BaseMetadataValidator.validate_cell = validate_cell
    common.BaseMetadataValidator._btc_kept_schema = True
