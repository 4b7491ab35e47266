"""What the code location loads: partitions, resources, assets and their checks, jobs, schedules, sensors."""
