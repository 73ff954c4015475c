"""Pipeline steps (probe, import, encode, export, finalize) and their definition as data."""

from mediajet.pipeline.definition import FINALIZE, STEP_NAMES, STEPS, RetryPolicy, Step, step

__all__ = ["FINALIZE", "STEPS", "STEP_NAMES", "RetryPolicy", "Step", "step"]
