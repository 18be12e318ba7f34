"""Running builds: the step pipeline, one build's runner, and parallel builds."""
