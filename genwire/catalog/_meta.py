"""The meta-schemas that define the catalog YAML format (see docs/catalog-format.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["MODEL_FILE_SCHEMA", "PROVIDER_FILE_SCHEMA", "VOCABULARY_FILE_SCHEMA"]

_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
_SLUG = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._/-]*$"}
#: a task's wire model may pin a version after a colon (Replicate's ``owner/name:version``)
_WIRE_MODEL = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._/-]*(:[A-Za-z0-9]+)?$"}
_NOTES = {"type": "array", "items": {"type": "string", "minLength": 1}}
_TYPES = ["string", "integer", "number", "boolean", "url", "array", "object"]

_PARAM: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type"],
    "properties": {
        "wire": {"type": "string", "minLength": 1},
        "type": {"enum": _TYPES},
        "description": {"type": "string"},
        "required": {"type": "boolean"},
        "default": {},
        "enum": {"type": "array", "minItems": 1},
        "wire_values": {"type": "object"},
        "minimum": {"type": "number"},
        "maximum": {"type": "number"},
        "min_length": {"type": "integer", "minimum": 0},
        "max_length": {"type": "integer", "minimum": 1},
        "min_items": {"type": "integer", "minimum": 0},
        "max_items": {"type": "integer", "minimum": 1},
        "items": {"$ref": "#/$defs/item"},
        "properties": {
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_]*$"},
            "additionalProperties": {"$ref": "#/$defs/item"},
        },
        "transform": {"enum": ["to_string", "first", "to_list"]},
        "placement": {"enum": ["input", "top"]},
        "examples": {"type": "array"},
        "notes": {"type": "string"},
    },
}

_ITEM: dict[str, Any] = {
    **_PARAM,
    "properties": {k: v for k, v in _PARAM["properties"].items() if k not in ("wire", "transform", "placement")},
}

MODEL_FILE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "genwire catalog model file",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "name", "kind", "output", "tasks"],
    "properties": {
        "id": _SLUG,
        "name": {"type": "string", "minLength": 1},
        "kind": {"enum": ["image", "video", "audio"]},
        "family": {"type": "string", "pattern": "^[a-z0-9][a-z0-9.-]*$"},
        "placement": {"enum": ["input", "top"]},
        "output": {
            "type": "object",
            "additionalProperties": False,
            "required": ["kind"],
            "properties": {
                "kind": {"enum": ["image", "video", "audio", "text"]},
                "formats": {"type": "array", "items": {"type": "string"}},
            },
        },
        "price": {
            "type": "object",
            "additionalProperties": False,
            "required": ["credits"],
            "properties": {"credits": {"type": "number", "minimum": 0}, "note": {"type": "string"}},
        },
        "notes": _NOTES,
        "params": {"$ref": "#/$defs/params"},
        "tasks": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"$ref": "#/$defs/task"},
        },
    },
    "$defs": {
        "param": _PARAM,
        "item": _ITEM,
        "params": {
            "type": "object",
            "propertyNames": _NAME,
            "additionalProperties": {"anyOf": [{"$ref": "#/$defs/param"}, {"type": "null"}]},
        },
        "task": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "description": {"type": "string"},
                "model": {
                    "anyOf": [
                        _WIRE_MODEL,
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["param", "values"],
                            "properties": {
                                "param": _NAME,
                                "values": {"type": "array", "minItems": 1, "items": _SLUG},
                                "description": {"type": "string"},
                            },
                        },
                    ]
                },
                "placement": {"enum": ["input", "top"]},
                "fixed": {"type": "object"},
                "params": {"$ref": "#/$defs/params"},
                "notes": _NOTES,
            },
        },
    },
}

PROVIDER_FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["provider", "name", "envelope"],
    "properties": {
        "provider": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
        "name": {"type": "string"},
        # where the provider's facts come from, and provider-wide doc discrepancies
        "sources": _NOTES,
        "notes": _NOTES,
        "envelope": {
            "type": "object",
            "additionalProperties": False,
            "required": ["model", "input", "webhook"],
            "properties": {
                "model": {"type": ["string", "null"]},
                "input": {"type": "string"},
                "webhook": {"type": "string"},
            },
        },
    },
}

VOCABULARY_FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["tasks", "params"],
    "properties": {
        "tasks": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "params": {
            "type": "object",
            "propertyNames": _NAME,
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type", "description"],
                "properties": {
                    "type": {"enum": _TYPES},
                    "description": {"type": "string"},
                    "aliases": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
