"""Cases: confirmed and asymptomatic infections, their investigation clock and treatment."""
