"""The local OpenAI-compatible server (``alpaca-desk serve``): an ASGI app over the inference host.

Modules:
    requests: the accepted request bodies, checked field by field, and the OpenAI error object.
    backend: the inference host as the server uses it: one model, one request at a time, first
        come first served; a client that leaves cancels its answer.
    guard: the gates around the endpoints: the Host header (DNS rebinding), the API key, the
        access log (method, path, status, token counts, time; never text).
    app: the Starlette app and its endpoints (models, chat and text completions, tokenize).
    server: the address checks, the socket, uvicorn, and the clean stop on SIGINT / SIGTERM.

Importing this package imports neither Starlette nor uvicorn; its modules do.
"""
