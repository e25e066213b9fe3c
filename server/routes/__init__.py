"""The request handlers, one module per concern; `server.app` maps them to paths.

Handlers find the settings and storage on `request.app.state`, set by `create_app`, and
call the (blocking) storage through `run_in_threadpool`.
"""
