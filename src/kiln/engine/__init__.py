"""What any builder needs to run a build: the plan it runs, the step runner (an
AsyncExitStack), multi-build and signals, timings, failure forensics, artifacts and
results, and the driver protocol (real vs recording for `-dry-run`).

A builder (`kiln.builders.qemu`) gives the engine its step list and its state; the engine
never imports a builder, a provisioner's or a post-processor's code (they import it).
"""
