"""Mistakes the stubs must catch (tests/test_typing.py expects exactly these errors)."""
import codat_platform_c as codat

client = codat.Client(timeout_ms="2000")  # E: arg-type
client.get_access_token(42)  # E: arg-type
client.get_access_tokens(["a"], endpoint="companies")  # E: arg-type
token: str = client.get_access_token("x")  # E: assignment
client.get_access_token("x", retry=None)  # E: call-arg
