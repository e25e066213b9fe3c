"""Reading and deleting models and versions."""

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from ..auth import require_owner
from ..errors import not_found
from ..validation import (
    MAX_INTEGER,
    check_name,
    owner_and_name,
    parse_query_int,
    parse_version,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


async def list_models(request):
    params = request.query_params
    limit = parse_query_int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = parse_query_int(params, "offset", 0, 0, MAX_INTEGER)
    owner = params.get("owner") or None
    if owner is not None:
        check_name("owner", owner)
    q = params.get("q") or None
    models, total = await run_in_threadpool(
        request.app.state.metadata.list_models, q, owner, limit, offset
    )
    return JSONResponse(
        {
            "models": [model.to_json() for model in models],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


async def get_model(request):
    owner, name = owner_and_name(request)
    model = await run_in_threadpool(request.app.state.metadata.get_model, owner, name)
    if model is None:
        raise not_found(f"model {owner}/{name}")
    return JSONResponse(model.to_json())


async def get_version(request):
    owner, name = owner_and_name(request)
    version = parse_version(request.path_params["version"])
    record = await run_in_threadpool(request.app.state.metadata.get_version, owner, name, version)
    if record is None:
        raise not_found(f"version {request.path_params['version']} of {owner}/{name}")
    return JSONResponse(record.to_json())


async def delete_model(request):
    owner, name = owner_and_name(request)
    await require_owner(request, owner)
    state = request.app.state
    if not await run_in_threadpool(state.metadata.delete_model, owner, name, state.blobs.delete):
        raise not_found(f"model {owner}/{name}")
    return Response(status_code=204)


async def delete_version(request):
    owner, name = owner_and_name(request)
    # "latest" is refused: deleting whatever happens to be newest is too easy to get wrong.
    version = parse_version(request.path_params["version"], allow_latest=False)
    await require_owner(request, owner)
    state = request.app.state
    deleted = await run_in_threadpool(
        state.metadata.delete_version, owner, name, version, state.blobs.delete
    )
    if not deleted:
        raise not_found(f"version {version} of {owner}/{name}")
    return Response(status_code=204)
