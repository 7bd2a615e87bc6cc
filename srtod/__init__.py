"""srtod: SR-TOD (Cao et al., "Visible and Clear: Finding Tiny Objects in Difference Map", ECCV 2024).

Importing ``srtod`` does no work; ``import srtod.models`` registers the SR-TOD modules in mmdet's
registries (configs do it through ``custom_imports``).
"""

__version__ = "0.1.0"
