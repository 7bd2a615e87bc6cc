"""Where runs execute, apart from what they run (:mod:`srtod.stages`): side by side in worker
processes on this machine (:mod:`~srtod.execution.local`), as a SLURM job array
(:mod:`~srtod.execution.slurm`), and the notebooks' kernels (papermill's engine ``srtod``,
:mod:`~srtod.execution.papermill_engine`). Nothing here imports the stages: they hand their jobs
in."""
