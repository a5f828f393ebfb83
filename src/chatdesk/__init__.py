"""chatdesk: live chat with a multilingual FAQ bot and hand-off to human consultants."""

__version__ = "0.1.0"
