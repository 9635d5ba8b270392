"""Protection of personal data: field encryption, keyed lookup hashes, masking."""
