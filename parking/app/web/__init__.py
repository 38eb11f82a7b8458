"""The HTTP plumbing every interface shares: the server, request timing, errors, query checks."""
