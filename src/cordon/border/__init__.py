"""Border and sea control: vessels with BeiDou positions, sea trips, checkpoints."""
