"""Developer and operator scripts: environments, training, the process supervisor."""
