"""jimoku as an MCP server (the official `mcp` SDK): the registered tools, `ask`, `job` and the review
queue, over stdio (`jimoku mcp`) and over streamable HTTP mounted in the service at `/mcp`.

Both transports answer every call through jimoku's REST API with the caller's own API key:
stdio over the network to the running service, HTTP in-process (the same FastAPI app). So the
keys, roles, ownership, upload limits, file validation, rate limits and error reasons are the
REST ones by construction, and there is no second path into the engine to keep in step.
"""
