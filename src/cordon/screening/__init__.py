"""Mass nucleic-acid screening: rounds, sites, pooled tubes, lab results, follow-up."""
