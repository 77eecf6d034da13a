"""What the sync and asyncio clients share: connection settings and request builders."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Mapping
from typing import Any, Optional, Sequence, Union

from .errors import WorkflowFailed
from .types import IdReusePolicy, WorkflowDescription, WorkflowStatus
from .v1 import worker_service_pb2 as wks
from .v1 import workflow_service_pb2 as ws
from .values import JSON, to_struct, to_value

#: The address used when none is given and BATON_ADDRESS is unset.
DEFAULT_ADDRESS = "127.0.0.1:7400"
#: Metadata key that selects the namespace of every call.
NAMESPACE_HEADER = "baton-namespace"
#: Longest single AwaitWorkflow call; a longer wait is several calls.
AWAIT_SLICE = 60.0

#: Channel options: reconnect quickly once the server is back (grpc's default backoff grows to 2 min).
#: (Not grpc.min_reconnect_backoff_ms: grpc also takes it as the minimum time a connection attempt
#: may take, 20 s by default, and a busy server needs that much to answer with its SETTINGS.)
CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 5000),
    ("grpc.enable_retries", 0),
]

Definition = Union[str, Mapping[str, Any]]


def resolve_address(address: Optional[str]) -> str:
    """`address`, else $BATON_ADDRESS, else 127.0.0.1:7400."""
    return address or os.environ.get("BATON_ADDRESS") or DEFAULT_ADDRESS


def call_metadata(namespace: Optional[str], extra: Sequence[tuple[str, str]] = ()) -> tuple[tuple[str, str], ...]:
    """The metadata sent with every call."""
    items = list(extra)
    if namespace:
        items.append((NAMESPACE_HEADER, namespace))
    return tuple(items)


def backoff(attempt: int, initial: float = 0.1, maximum: float = 10.0) -> float:
    """Exponential backoff with jitter: about initial * 2**attempt, at most `maximum`."""
    base = min(maximum, initial * (2 ** min(attempt, 30)))
    return base * random.uniform(0.5, 1.0)


def register_request(definition: Definition) -> ws.RegisterDefinitionRequest:
    """A definition as YAML/JSON text, or as a dict (sent as JSON text, so integers stay integers)."""
    if isinstance(definition, str):
        return ws.RegisterDefinitionRequest(source=definition)
    if isinstance(definition, Mapping):
        to_struct(definition)  # the same checks as every other value (str keys, JSON types)
        return ws.RegisterDefinitionRequest(source=json.dumps(definition),
                                            format=ws.DEFINITION_FORMAT_JSON)
    raise TypeError(f"a definition is YAML/JSON text or a dict, got {type(definition).__name__}")


def start_request(definition: str, input: JSON, workflow_id: str, version: int,  # noqa: A002
                  id_reuse_policy: IdReusePolicy) -> ws.StartWorkflowRequest:
    request = ws.StartWorkflowRequest(definition=definition, version=version, workflow_id=workflow_id,
                                      id_reuse_policy=int(id_reuse_policy))
    request.input.CopyFrom(to_value(input))
    return request


def signal_request(workflow_id: str, name: str, payload: JSON, request_id: str, run_id: str) -> ws.SignalRequest:
    request = ws.SignalRequest(workflow_id=workflow_id, name=name, request_id=request_id, run_id=run_id)
    request.payload.CopyFrom(to_value(payload))
    return request


def list_request(status: Optional[WorkflowStatus], definition: str, page_size: int,
                 page_token: str) -> ws.ListWorkflowsRequest:
    return ws.ListWorkflowsRequest(status=int(status or 0), definition=definition, page_size=page_size,
                                   page_token=page_token)


def result_of(description: WorkflowDescription) -> JSON:
    """The output of a COMPLETED run; raises WorkflowFailed for any other closed state."""
    if description.status == WorkflowStatus.COMPLETED:
        return description.output
    raise WorkflowFailed(description)


def complete_request(token: str, output: JSON) -> wks.CompleteActivityTaskRequest:
    request = wks.CompleteActivityTaskRequest(task_token=token)
    if output is not None:
        request.output.CopyFrom(to_value(output))
    return request
