"""The JSON Schemas (Draft 2020-12) of every tool's arguments and structured result: data, not code.

An agent reads these to call the tools without docs, so every property says what it is.
Arguments are checked against them before a tool runs (unknown ones are refused).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ARGUMENTS", "MAX_WAIT", "RESULTS"]

#: no wait of one tool call lasts longer (MCP clients give up on a call after about 60 s)
MAX_WAIT = 50.0

Schema = dict[str, Any]


def _obj(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


_STR = {"type": "string"}
_NUM = {"type": "number"}

_TARGET = {"type": "string", "minLength": 1,
           "description": "the model: 'provider/model' (e.g. 'cliprise/veo-3-fast', see list_models), or a family "
                          "name offered by several providers (e.g. 'nano-banana-2': the first provider with a key)"}
_INPUT = {"type": "object", "description": "the model's input (see get_model for each task's schema), e.g. "
                                           "{\"prompt\": \"a fox\", \"aspect_ratio\": \"16:9\"}"}
_TASK = {"type": "string", "minLength": 1,
         "description": "the task (e.g. 'text-to-video'); left out, it is inferred from the input"}
_PROVIDER = {"type": "string", "minLength": 1, "description": "the provider (e.g. 'clipia', 'cliprise')"}
_JOB_ID = {"type": "string", "minLength": 1, "description": "the provider's job id, as generate returned it"}
_UNSUPPORTED = {"enum": ["error", "warn"], "default": "error",
                "description": "a parameter the model does not take: refuse the call ('error'), or drop it and "
                             "list it in warnings ('warn')"}

_PRICE = _nullable(_obj({"credits": _NUM, "note": _nullable(_STR)}, ("credits",)))
_VIOLATIONS = {"type": "array", "items": _obj({"path": _STR, "message": _STR}, ("path", "message")),
               "description": "every problem, with its JSON path in the input"}
_WARNINGS = {"type": "array", "items": _obj({"code": _STR, "parameter": _nullable(_STR), "message": _STR},
                                            ("code", "message"))}

#: one output file; the URL never carries a key (read_resource it when the provider needs one)
_MEDIA = _obj({
    "url": _STR, "kind": {"enum": ["image", "video", "audio", "text"]}, "mime_type": _nullable(_STR),
    "format": _nullable(_STR), "width": _nullable({"type": "integer"}), "height": _nullable({"type": "integer"}),
    "duration": _nullable(_NUM),
}, ("url", "kind"))

#: a job at one point in time
GENERATION = _obj({
    "provider": _STR, "model": _STR, "task": _nullable(_STR), "id": _STR,
    "status": {"enum": ["queued", "running", "succeeded", "failed", "canceled"]},
    "done": {"type": "boolean", "description": "true once the status is final"},
    "progress": _nullable({**_NUM, "description": "percent done, when the provider says"}),
    "queue_position": _nullable({"type": "integer"}),
    "outputs": {"type": "array", "items": _MEDIA},
    "cost": _nullable(_obj({"credits": _NUM, "source": {"enum": ["provider", "catalog"]}}, ("credits", "source"))),
    "error": _nullable(_obj({"code": _nullable(_STR), "message": _STR, "retryable": {"type": "boolean"}},
                            ("message",))),
    "warnings": _WARNINGS,
    "sandbox": {"type": "boolean"},
    "created_at": _nullable(_STR), "completed_at": _nullable(_STR),
    "next": _nullable({**_STR, "description": "what to call to follow the job, while it is not done"}),
}, ("provider", "model", "id", "status", "done", "outputs", "next"))

_MODEL_SUMMARY = _obj({
    "model": {**_STR, "description": "'provider/model': what generate takes"},
    "provider": _STR, "id": _STR, "name": _STR, "kind": _STR, "family": _nullable(_STR),
    "tasks": {"type": "array", "items": _STR}, "price": _PRICE,
}, ("model", "provider", "id", "name", "kind", "tasks"))

_TASK_DETAIL = _obj({
    "name": _STR, "description": _nullable(_STR), "required": {"type": "array", "items": _STR},
    "defaults": {"type": "object"}, "notes": {"type": "array", "items": _STR},
    "input_schema": {"type": "object", "description": "the normalized input's JSON Schema"},
}, ("name", "required", "defaults", "input_schema"))

_ESTIMATE = _obj({
    "provider": _STR, "model": _STR, "task": _STR,
    "credits": _nullable({**_NUM, "description": "null: unknown (no provider quote, no catalog price)"}),
    "source": _nullable({"enum": ["provider", "catalog"]}), "note": _nullable(_STR), "warnings": _WARNINGS,
}, ("provider", "model", "task", "credits", "source"))

_ENTRY = _obj({
    "ref": _STR, "state": _STR, "provider": _STR, "model": _STR, "task": _nullable(_STR),
    "id": _nullable({**_STR, "description": "the provider's job id (null until it accepted the job)"}),
    "cost": _nullable(_NUM), "error": _nullable(_STR), "created_at": _STR, "updated_at": _STR,
    "outputs": {"type": "array", "items": _MEDIA},
}, ("ref", "state", "provider", "model", "id", "created_at", "updated_at"))

_BALANCE = _obj({
    "provider": _STR, "offered": {"type": "boolean", "description": "false: the provider has no balance API"},
    "credits": _nullable(_NUM), "error": _nullable(_STR),
}, ("provider", "offered", "credits"))

#: tool name -> the JSON Schema of its arguments
ARGUMENTS: dict[str, Schema] = {
    "list_models": _obj({
        "provider": _PROVIDER, "kind": {"enum": ["image", "video", "audio", "text"]},
        "task": {**_STR, "description": "only models offering this task (e.g. 'image-to-video')"},
        "family": {**_STR, "description": "only models of this family (one model offered by several providers)"},
    }),
    "get_model": _obj({"model": {**_TARGET, "description": "'provider/model', e.g. 'clipia/nano-banana-2'"}},
                      ("model",)),
    "validate_input": _obj({"model": _TARGET, "input": _INPUT, "task": _TASK, "unsupported": _UNSUPPORTED},
                           ("model", "input")),
    "estimate_cost": _obj({"model": _TARGET, "input": _INPUT, "task": _TASK, "unsupported": _UNSUPPORTED},
                          ("model", "input")),
    "generate": _obj({
        "model": _TARGET, "input": _INPUT, "task": _TASK, "unsupported": _UNSUPPORTED,
        "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 255,
                            "description": "any unique string per intended job: calling again with the same key "
                                           "returns the same job instead of starting (and paying for) another"},
        "wait": {"type": "number", "minimum": 0, "maximum": MAX_WAIT, "default": 0,
                 "description": f"seconds to wait for the job to end (0 to {MAX_WAIT:g}; default 0: return at once)"},
    }, ("model", "input")),
    "get_generation": _obj({"provider": _PROVIDER, "id": _JOB_ID}, ("provider", "id")),
    "wait_generation": _obj({
        "provider": _PROVIDER, "id": _JOB_ID,
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_WAIT, "default": MAX_WAIT,
                    "description": f"seconds to wait at most (default and limit {MAX_WAIT:g}); a job still running "
                                   "then is returned as it is, with 'next' saying how to go on"},
    }, ("provider", "id")),
    "cancel_generation": _obj({"provider": _PROVIDER, "id": _JOB_ID}, ("provider", "id")),
    "list_generations": _obj({
        "state": {"enum": ["submitting", "uncertain", "queued", "running", "succeeded", "failed", "canceled",
                           "rejected"]},
        "provider": _PROVIDER,
        "since": {"type": "string", "format": "date-time",
                  "description": "only jobs submitted at or after this time (ISO 8601, e.g. 2026-01-31T12:00:00Z)"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50,
                  "description": "at most this many, newest first"},
    }),
    "get_balance": _obj({"provider": {**_PROVIDER, "description": "one provider (default: every provider)"}}),
}

#: tool name -> the JSON Schema of its structured result
RESULTS: dict[str, Schema] = {
    "list_models": _obj({"models": {"type": "array", "items": _MODEL_SUMMARY}, "count": {"type": "integer"}},
                        ("models", "count")),
    "get_model": _obj({
        "model": _STR, "provider": _STR, "id": _STR, "name": _STR, "kind": _STR, "family": _nullable(_STR),
        "output": _obj({"kind": _STR, "formats": {"type": "array", "items": _STR}}, ("kind", "formats")),
        "price": _PRICE, "notes": {"type": "array", "items": _STR},
        "tasks": {"type": "array", "items": _TASK_DETAIL},
    }, ("model", "provider", "id", "name", "kind", "output", "price", "tasks")),
    "validate_input": _obj({
        "valid": {"type": "boolean"},
        "provider": _nullable(_STR), "model": _nullable(_STR), "task": _nullable(_STR),
        "input": _nullable({"type": "object", "description": "the accepted input, defaults applied"}),
        "warnings": _WARNINGS, "violations": _VIOLATIONS,
        "message": _nullable(_STR),
        "alternatives": {"type": "array", "items": _obj({"provider": _STR, "model": _STR, "task": _STR}),
                         "description": "other providers of the family that accept the input too"},
    }, ("valid", "violations")),
    "estimate_cost": _obj({"estimates": {"type": "array", "items": _ESTIMATE},
                           "credits": _nullable({**_NUM, "description": "the highest of the estimates"})},
                          ("estimates", "credits")),
    "generate": GENERATION,
    "get_generation": GENERATION,
    "wait_generation": GENERATION,
    "cancel_generation": GENERATION,
    "list_generations": _obj({"generations": {"type": "array", "items": _ENTRY}, "count": {"type": "integer"}},
                             ("generations", "count")),
    "get_balance": _obj({"balances": {"type": "array", "items": _BALANCE}}, ("balances",)),
}
