"""Administrative divisions (GB/T 2260), community grids and geometry."""
