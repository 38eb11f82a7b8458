"""HTTP API handlers: live lots and boards, guidance, history, event streams."""
