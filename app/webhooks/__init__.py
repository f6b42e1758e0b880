"""Outbound webhooks: merchants register endpoints and hear every event of theirs (see `signing`)."""
