"""Command line: python -m codat_platform_c {token,demo,serve-stand-in} ...

Exit codes: 0 success; 1 the API answered with an error (ErrorMessage/SDKError); 2 usage or bad input;
3 transport error or timeout; 130 interrupted.
"""
import argparse
import json
import sys

import codat_platform_c as codat

EXIT_OK, EXIT_API_ERROR, EXIT_USAGE, EXIT_TRANSPORT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _parser():
    # read from the C extension, their one definition (loading it costs the help text about 10 ms)
    default_server_url = codat.DEFAULT_SERVER_URL
    retired_date = codat._core._RETIRED_DATE  # when Codat retired the connectionManagement endpoint
    p = argparse.ArgumentParser(
        prog="python -m codat_platform_c",
        description="Fetch Codat Platform API access tokens (libcurl + cJSON C core).",
        epilog="Credentials come from CODAT_AUTH_HEADER (sent verbatim, e.g. 'Basic BASE64(API_KEY)') or "
               "CODAT_API_KEY. Exit codes: 0 ok, 1 API error, 2 usage, 3 transport/timeout, 130 interrupted.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("token", help="fetch one company's access token and print it",
                       description="Fetch an access token for COMPANY_ID from GET /companies/{id}/accessToken "
                                   "(valid 1 day). With --connection-management from the old "
                                   "connectionManagement/accessToken endpoint, which Codat retired on "
                                   f"{retired_date} (it answers 404 since).")
    t.add_argument("company_id")
    endpoint = t.add_mutually_exclusive_group()
    endpoint.add_argument("--connection-management", action="store_true",
                          help="use the retired GET /companies/{id}/connectionManagement/accessToken")
    endpoint.add_argument("--company-token", action="store_true",
                          help="use GET /companies/{id}/accessToken, Codat's live endpoint (the default; "
                               "kept for scripts that pass it)")
    t.add_argument("--server-url", default=None,
                   help=f"API base URL (default: $CODAT_SERVER_URL or {default_server_url})")
    t.add_argument("--timeout-ms", type=int, default=None, help="per-attempt timeout in milliseconds")
    t.add_argument("--no-retries", action="store_true", help="make one attempt only")
    t.add_argument("--ca-bundle", default=None, help="PEM file of CAs to trust for HTTPS")
    t.add_argument("--json", action="store_true", help="print the whole JSON answer instead of the token")

    d = sub.add_parser("demo", help="start the stand-in server on loopback and fetch tokens from it",
                       description="Starts the embedded stand-in Codat server on 127.0.0.1 (HTTP and HTTPS), "
                                   "fetches both kinds of token through the C client and prints them, then "
                                   "shows how errors look. Needs no network and no credentials.")
    d.add_argument("--company-id", default="8a210b68-6988-11ed-a1eb-0242ac120002")

    # Listed here for --help; its options are codat_platform_c.testing's own command line, which main()
    # hands the rest of the arguments to (one parser for both ways of starting the stand-in).
    sub.add_parser("serve-stand-in", add_help=False,
                   help="run the stand-in Codat server for local development (options: serve-stand-in --help, "
                        "the same as python -m codat_platform_c.testing)")
    return p


def _client(args):
    settings = codat._settings_from_env()
    if args.server_url is not None:
        settings["server_url"] = args.server_url
    return codat.Client(**settings, timeout_ms=args.timeout_ms,
                        retries=None if args.no_retries else codat.RetryConfig(), verify=args.ca_bundle or True)


def _one_line(text):
    """text made safe for one terminal line: the server wrote much of it, so every control character
    (newlines, and ESC, which starts a terminal escape sequence) is shown escaped rather than sent."""
    import re
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", lambda m: f"\\x{ord(m.group()):02x}"
                  if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def _fail(message, code):
    print(_one_line(f"error: {message}"), file=sys.stderr)
    return code


def _token(args):
    import warnings

    if args.connection_management:
        print(f"note: Codat retired GET /companies/{{id}}/connectionManagement/accessToken on {codat._core._RETIRED_DATE}; "
              "without --connection-management this command uses GET /companies/{id}/accessToken",
              file=sys.stderr)
    try:
        with _client(args) as client, warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # said once above, in words for a shell
            fetch = client.get_access_token if args.connection_management else client.get_company_access_token
            answer = fetch(args.company_id)
    except codat.TransportError as e:  # before OSError: it is also a ConnectionError
        return _fail(f"{type(e).__name__}: {e}", EXIT_TRANSPORT)
    except (TypeError, ValueError, OSError) as e:  # OSError: the CA bundle cannot be read
        return _fail(e, EXIT_USAGE)
    except codat.ErrorMessage as e:
        return _fail(f"Codat answered {e}", EXIT_API_ERROR)
    except codat.CodatError as e:  # SDKError, and any other error of the library
        return _fail(e, EXIT_API_ERROR)
    except (MemoryError, RuntimeError) as e:
        return _fail(f"{type(e).__name__}: {e}", EXIT_API_ERROR)
    if args.json:
        print(json.dumps(answer))
    elif _one_line(answer["accessToken"]) != answer["accessToken"]:
        return _fail("the token holds control characters; use --json to see it escaped", EXIT_API_ERROR)
    else:
        print(answer["accessToken"])
    return EXIT_OK


def _demo(args):
    import time
    import warnings

    from codat_platform_c.testing import Reply, StandInServer

    auth = "Basic " + "ZGVtby1hcGkta2V5"  # base64("demo-api-key")
    print(f"codat_platform_c {codat.__version__} ({codat.USER_AGENT})")
    with StandInServer(auth_header=auth) as http_srv, StandInServer(tls=True, auth_header=auth) as https_srv:
        print(f"stand-in Codat server: {http_srv.url} and {https_srv.url}")
        with codat.Client(auth_header=auth, server_url=http_srv.url) as client:
            t = time.perf_counter()
            company = client.get_company_access_token(args.company_id)
            ms = (time.perf_counter() - t) * 1000
            print(f"GET /companies/{args.company_id}/accessToken -> {company} ({ms:.2f} ms)")
            print(f"rate limit: {client.rate_limit}")
            http_srv.script("demo-missing", Reply(status=404))
            try:
                client.get_company_access_token("demo-missing")
            except codat.ErrorMessage as e:
                print(f"errors raise typed exceptions: {type(e).__name__}: {e}")
            batch = client.get_access_tokens([f"company-{i}" for i in range(100)], endpoint="company")
            print(f"batch: {sum(isinstance(v, dict) for v in batch.values())} of 100 tokens in one call")
        with codat.Client(auth_header=auth, server_url=https_srv.url, verify=https_srv.ca_path) as tls_client:
            print(f"over HTTPS -> {tls_client.get_company_access_token(args.company_id)}")
        # The old endpoint, as Codat answers it since it retired it
        with StandInServer(auth_header=auth, retired_connection_management=True) as today, \
                codat.Client(auth_header=auth, server_url=today.url) as client:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    client.get_access_token(args.company_id)
            except codat.ErrorMessage as e:
                print(f"the retired GET /companies/{{id}}/connectionManagement/accessToken -> {e}")
    return EXIT_OK


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["serve-stand-in"]:
        from codat_platform_c.testing.cli import main as serve_main
        return serve_main(argv[1:], prog="python -m codat_platform_c serve-stand-in")
    args = _parser().parse_args(argv)
    try:
        return {"token": _token, "demo": _demo}[args.command](args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
