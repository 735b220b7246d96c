"""Shared helpers of the fault tests: the broker process, raw STOMP over TCP and WebSocket."""
