"""jimoku service: settings, CLI and (later) the HTTP API over tools/ and graphs/."""
