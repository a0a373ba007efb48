"""Stand-in Codat Platform API server, for testing code offline.

``StandInServer`` imitates the Codat Platform API endpoints that hand out company access tokens (and a few
read-only others) over HTTP/1.1, HTTPS and HTTP/2, on 127.0.0.1, in a background thread; ``Reply`` scripts
its answers, faults included.  docs/standin.md (in the source tree, linked from the README) is the full
specification.  Quick start::

    from codat_platform_c.testing import StandInServer, Reply

    with StandInServer() as srv:                 # listens on 127.0.0.1:<free port>
        srv.script("acme", Reply(status=503), Reply(status=503))
        ...  # point your client at srv.url; the first two requests for company
             # "acme" get 503, later ones succeed
        assert srv.request_count("acme") == 3

From a shell: ``python -m codat_platform_c.testing --port 8080 [--tls [--http2]]`` (or
``python -m codat_platform_c serve-stand-in``, the same command).
"""

from .cli import main, serve
from .platform_api import DEMO_COMPANIES
from .replies import ACTIONS, RecordedRequest, Reply  # noqa: F401  (ACTIONS: the valid Reply.action values)
from .replies import magic_reply as _magic_reply  # noqa: F401  (tests/test_fuzz_api.py uses it)
from .server import StandInServer

__all__ = ["StandInServer", "Reply", "RecordedRequest", "DEMO_COMPANIES", "serve", "main"]
