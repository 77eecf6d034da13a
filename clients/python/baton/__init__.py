"""Baton's Python SDK: a client (sync and asyncio) and a worker for activities.

    import baton

    client = baton.Client()                                   # $BATON_ADDRESS or 127.0.0.1:7400
    run = client.start("three_step_echo", {"n": 1})
    print(run.await_result(timeout=30))                       # {'b': 1, 'c': 1}

    worker = baton.Worker("marketing", max_concurrent=20)

    @worker.activity("research.market")
    def research(input, ctx):
        return {"doc_id": f"market-{input['topic']}"}

    worker.run()

`baton.aio.Client` is the asyncio client; `baton.v1` holds the generated protobuf/gRPC stubs.
JSON values keep integers as `int` (see `baton.values`).
"""

from .activity import ActivityContext
from .client import Client, WorkflowHandle
from .errors import (ActivityCancelled, ActivityError, AlreadyExists, BatonError, Cancelled, DeadlineExceeded,
                     FailedPrecondition, Internal, InvalidArgument, NotFound, PermissionDenied, ResourceExhausted,
                     Unauthenticated, Unavailable, Unimplemented, WorkerError, WorkflowFailed)
from .types import (DefinitionRef, Failure, IdReusePolicy, Progress, StepInfo, StepStatus, WorkflowDescription,
                    WorkflowInfo, WorkflowStatus)
from .values import MAX_SAFE_INTEGER, from_value, to_value
from .worker import Worker

__version__ = "0.1.0"

__all__ = [
    "ActivityCancelled", "ActivityContext", "ActivityError", "AlreadyExists", "BatonError", "Cancelled",
    "Client", "DeadlineExceeded", "DefinitionRef", "FailedPrecondition", "Failure", "IdReusePolicy", "Internal",
    "InvalidArgument", "MAX_SAFE_INTEGER", "NotFound", "PermissionDenied", "Progress", "ResourceExhausted",
    "StepInfo", "StepStatus", "Unauthenticated", "Unavailable", "Unimplemented", "WorkerError", "Worker",
    "WorkflowDescription", "WorkflowFailed", "WorkflowHandle", "WorkflowInfo", "WorkflowStatus", "from_value",
    "to_value", "__version__",
]
