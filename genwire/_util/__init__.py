"""Small helpers with no genwire imports: JSON reading, secret redaction, log filtering,
frozen records, trusted pydantic construction. May import only the standard library and
the runtime dependencies."""

__all__: list[str] = []
