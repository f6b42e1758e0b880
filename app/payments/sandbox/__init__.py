"""Local stand-ins for the payment companies: real HTTP servers on 127.0.0.1 that speak each provider's wire
format, check the SDKs' real signatures and sign their answers and notifications with their own keys.

Tests drive them directly; ``make run`` can serve them as a sandbox (沙箱) so the whole flow works without real
credentials. Nothing here ever talks to anything but loopback.
"""
