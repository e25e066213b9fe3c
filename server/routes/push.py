"""Pushing a new version: the body is one safetensors file."""

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from ..auth import require_owner
from ..uploads import receive_upload
from ..validation import owner_and_name


async def push_version(request):
    owner, name = owner_and_name(request)
    await require_owner(request, owner)  # before reading a byte of the body
    state = request.app.state
    upload = await receive_upload(request, state.settings)
    try:
        record = await run_in_threadpool(
            state.metadata.create_version,
            owner,
            name,
            upload.sha256,
            upload.size,
            upload.metadata,
            upload.tensors,
            lambda: state.blobs.put(upload.sha256, upload.path),
            state.blobs.delete,
        )
    finally:
        upload.path.unlink(missing_ok=True)  # already gone if the blob store took it
    location = f"/api/models/{owner}/{name}/versions/{record.version}"
    return JSONResponse(record.to_json(), status_code=201, headers={"Location": location})
