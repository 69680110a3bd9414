"""LoRA training (paper sections 4.3-4.5 and 5): the scripts, their launchers (this computer, SSH hosts), the merge."""
