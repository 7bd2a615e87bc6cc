"""What the pipeline's notebooks call: one module per stage, plus the params resolution."""
