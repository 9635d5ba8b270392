"""The digital twin: a synthetic Dongxing, its people's movements and an outbreak whose whole
transmission tree is known. Deterministic for a scenario, its parameters and a seed."""
