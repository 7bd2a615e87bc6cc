"""One module per ``python -m srtod`` verb: ``add_arguments(parser)`` and ``run(args) -> int``."""
