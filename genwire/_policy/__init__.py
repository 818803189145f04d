"""The one retry/poll/wait policy, pure: generator flows yielding effects (``flows``), retry and
poll settings with Retry-After (``retry``), rate-limit pacing (``ratelimit``). No I/O. May import
``_util``, ``models``/``errors``/``specs``, ``catalog`` and ``adapters``."""

__all__: list[str] = []
