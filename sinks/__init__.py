"""Carbon-sink core: coefficients, stocks and removals, inventory, neutrality, the pipeline
(:func:`sinks.pipeline.run_assessment`) and the command line (``python -m sinks``)."""
