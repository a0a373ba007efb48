"""``codat_platform.connection_management``: the connection-management method group (the retired endpoint)."""
from ._client import ConnectionManagement

__all__ = ["ConnectionManagement"]
