"""The reader's path through the reproduction: each notebook a chapter, the published analysis.

- :mod:`srtod.report.chapter`: what every notebook does first (:class:`Chapter`): which profile it
  reads (the last run's, else ``smoke``), logs to a file beside the executed notebook, figures
  shown as images.
- :mod:`srtod.report.conclusions`: each chapter's closing sentence, computed from its numbers.
- :mod:`srtod.report.published`: the executed notebooks of a run published beside its tables
  (size-checked), and the numbers they show.
- :mod:`srtod.report.site`: ``make report``, the published notebooks and the README's result as a
  static site (nbconvert), and its check in a headless Chromium.

Nothing here is imported by ``import srtod``.
"""

from .chapter import Chapter

__all__ = ["Chapter"]
