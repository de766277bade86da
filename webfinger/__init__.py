"""WebFinger (RFC 7033) as a library: the server's JRD documents and a resolving client."""
